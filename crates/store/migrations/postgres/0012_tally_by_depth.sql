-- Counts of the whole tree (the roots' rows) and breakdowns by unit (a
-- unit's rows and its children's) select hazard_tally rows by depth. Led by
-- the path alone, the first read every row of the table (2.4 million at a
-- million hazards) and the second every row of the subtree down to each
-- enterprise. Led by depth, both are range seeks (index-only when the table
-- is vacuumed).
CREATE INDEX hazard_tally_depth ON hazard_tally (depth, node_path)
    INCLUDE (campaign, area, month, state, level, source, listed, on_time, n);
