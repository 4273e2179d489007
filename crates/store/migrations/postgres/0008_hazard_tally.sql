-- Counts that do not scan the world. Dashboards ask for totals, closed,
-- on-time, listed and major hazards of a jurisdiction, broken down by area,
-- unit, level, source, state and month. Counting hazard rows costs 0.4 s for
-- a town and up to 2.3 s for a district at 1,000,000 hazards (see
-- docs/performance.md). This table keeps those counts, written in the same
-- transaction as every hazard insert and update (bihuan_store::hazards), one
-- row per unit on the hazard's path (every ancestor and the unit itself) and
-- per combination of the dimensions below, so a jurisdiction's counts are a
-- sum over its own node rows. Overdue depends on today and is not kept here:
-- it is counted from the open hazards (a partial index).
-- Ids are 32 lower-case hex digits ('' = none); month is the Beijing month
-- the hazard was found; on_time = closed and handed in by the deadline.
-- When the table is empty while hazards exist (a database from before this
-- migration, or a bulk load), the store fills it from the hazards on start.
-- Writers of one town all touch its node rows: the rows are locked until
-- commit, as the audit chain's head already is.
CREATE TABLE hazard_tally (
    node_path TEXT COLLATE "C" NOT NULL,
    depth INTEGER NOT NULL,
    campaign TEXT NOT NULL,
    area TEXT NOT NULL,
    month TEXT NOT NULL,
    state TEXT NOT NULL,
    level TEXT NOT NULL,
    source TEXT NOT NULL,
    listed BOOLEAN NOT NULL,
    on_time BOOLEAN NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (node_path, campaign, area, month, state, level, source, listed, on_time)
);

-- "Hazards of an area found in a year, newest first" walked back through
-- every newer hazard of the area and read each row to test the date (250 ms
-- at a million). With the date in the index the rows that fail are rejected
-- in the index.
DROP INDEX hazard_area;
CREATE INDEX hazard_area ON hazard (area_id, num, found_at);
