-- Overdue is counted from the open hazards when a dashboard is read (the
-- rest comes from hazard_tally). Both indexes over pending hazards carry the
-- columns a breakdown groups by, so the count never reads a hazard row: one
-- led by the path (a town and below), one led by the deadline (everything).
-- The store names them with INDEXED BY: left to itself SQLite walks a whole
-- index that yields the GROUP BY order (3 s at a million hazards).
DROP INDEX hazard_pending_path;
CREATE INDEX hazard_pending_path ON hazard (unit_path, deadline, num, area_id, campaign_id, level, source, state, found_at, listed)
    WHERE state IN ('reported', 'assigned', 'rectifying');
CREATE INDEX hazard_overdue ON hazard (deadline, unit_path, area_id, campaign_id, level, source, state, found_at, listed)
    WHERE state IN ('reported', 'assigned', 'rectifying');
