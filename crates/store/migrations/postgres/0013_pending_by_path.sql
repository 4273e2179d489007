-- Overdue hazards of one town (its list and its dashboard count) went
-- through hazard_open_deadline, led by the deadline: every overdue hazard of
-- the district was read and its path tested (~75 ms at a million hazards).
-- Led by the path, a town reads only its own pending hazards; the INCLUDE
-- columns keep the dashboard count index-only. (SQLite has had its
-- equivalent, hazard_pending_path, since 0006.)
CREATE INDEX hazard_pending_path ON hazard (unit_path, deadline)
    INCLUDE (num, area_id, campaign_id, level, source, state, found_at, listed)
    WHERE state IN ('reported', 'assigned', 'rectifying');
