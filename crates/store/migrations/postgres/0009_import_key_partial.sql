-- The import key is NULL for every hazard registered in the system and set
-- only for imported ones, so the unique index of 0004 held almost nothing
-- but NULLs. SQLite's ANALYZE then records that "each key matches every
-- row" (sqlite_stat1: `hazard_import_key 1000000 1000000`) and its planner
-- never uses the index: the import's dry run looked keys up by a full scan
-- of the hazard table per batch (9.7 s for 10,000 rows at a million
-- hazards, docs/performance.md §9). A partial index without the NULLs is
-- small, keeps the keys unique (NULLs never conflicted anyway) and is used
-- by any query that says `import_key IS NOT NULL` (as
-- `hazards::codes_by_import_key` does) whatever the statistics say.
-- PostgreSQL used the full index (it keeps the NULL fraction), but gets the
-- same index so that both engines keep the same schema and the same query.
DROP INDEX hazard_import_key;
CREATE UNIQUE INDEX hazard_import_key ON hazard (import_key) WHERE import_key IS NOT NULL;
