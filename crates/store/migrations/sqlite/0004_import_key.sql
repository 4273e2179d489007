-- A hazard imported from an office's ledger carries a stable key derived
-- from the row (unit, name, date found, description), so that importing the
-- same rows again finds them instead of creating duplicates. NULL for
-- hazards registered in the system.
ALTER TABLE hazard ADD COLUMN import_key TEXT;
CREATE UNIQUE INDEX hazard_import_key ON hazard (import_key);
