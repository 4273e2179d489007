-- Counts of the whole tree (the roots' rows) and breakdowns by unit (a
-- unit's rows and its children's) select hazard_tally rows by depth. Led by
-- the path alone, the first read every row of the table (2.4 million at a
-- million hazards, 0.3–0.4 s) and the second every row of the subtree down to
-- each enterprise. Led by depth, both are range seeks; the index carries
-- every column, so no table row is read.
CREATE INDEX hazard_tally_depth ON hazard_tally (depth, node_path, campaign, area, month, state, level, source, listed, on_time, n);
