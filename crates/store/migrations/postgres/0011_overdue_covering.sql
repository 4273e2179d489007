-- Overdue is counted from the open hazards when a dashboard is read (the
-- rest comes from hazard_tally). The index over pending hazards carries the
-- columns a breakdown groups by, so the count can be an index-only scan.
DROP INDEX hazard_open_deadline;
CREATE INDEX hazard_open_deadline ON hazard (deadline, unit_path)
    INCLUDE (area_id, campaign_id, level, source, state, found_at, listed)
    WHERE state IN ('reported', 'assigned', 'rectifying');
