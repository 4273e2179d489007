-- The measures list (制度措施清单): the supervisor's check of a completed
-- measure (核验), and the index behind "measures my unit put on the list".
-- Keep in step with ../postgres/0005_measures.sql (a test compares them).

ALTER TABLE measure ADD COLUMN verified_at TEXT;
ALTER TABLE measure ADD COLUMN verified_by TEXT;

CREATE INDEX measure_created_by ON measure (created_by_unit_id, num);
