-- The partial indexes of 0006 help SQLite (a town's open list from 424 ms to
-- 9 ms p95 at a million hazards) but hurt PostgreSQL: sqlx prepares every
-- statement, and after a few runs PostgreSQL plans without the parameter
-- values; with these indexes that generic plan read every open hazard of a
-- town and sorted them (open list 6.7 ms → 63 ms p95). PostgreSQL goes back
-- to the indexes it had; SQLite keeps 0006.
DROP INDEX hazard_pending_path;
DROP INDEX hazard_open_path;
CREATE INDEX hazard_open_deadline ON hazard (deadline, unit_path) WHERE state IN ('reported', 'assigned', 'rectifying');
