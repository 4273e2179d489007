-- Fills hazard_tally from the hazards (see migration 0008): one row per
-- prefix of each hazard's unit path (paths are '/' then 33 characters per
-- level) and combination of the dimensions. Must give exactly what
-- bihuan_store::hazard_tally writes row by row; a test compares the two.
INSERT INTO hazard_tally (node_path, depth, campaign, area, month, state, level, source, listed, on_time, n)
SELECT substr(h.unit_path, 1, 1 + 33 * d.k), d.k,
       COALESCE(replace(CAST(h.campaign_id AS TEXT), '-', ''), ''), COALESCE(replace(CAST(h.area_id AS TEXT), '-', ''), ''),
       to_char(h.found_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), h.state, h.level, h.source, h.listed,
       (h.state = 'closed' AND (h.deadline IS NULL OR h.submitted_at IS NULL
            OR CAST(h.submitted_at AT TIME ZONE 'Asia/Shanghai' AS DATE) <= h.deadline)),
       COUNT(*)
FROM hazard h JOIN generate_series(1, 64) AS d(k) ON 1 + 33 * d.k <= length(h.unit_path)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
