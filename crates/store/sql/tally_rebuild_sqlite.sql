-- Fills hazard_tally from the hazards (see migration 0008): one row per
-- prefix of each hazard's unit path (paths are '/' then 33 characters per
-- level) and combination of the dimensions. Must give exactly what
-- bihuan_store::hazard_tally writes row by row; a test compares the two.
INSERT INTO hazard_tally (node_path, depth, campaign, area, month, state, level, source, listed, on_time, n)
WITH RECURSIVE d(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM d WHERE k < 64)
SELECT substr(h.unit_path, 1, 1 + 33 * d.k), d.k,
       COALESCE(lower(hex(h.campaign_id)), ''), COALESCE(lower(hex(h.area_id)), ''),
       strftime('%Y-%m', h.found_at, '+8 hours'), h.state, h.level, h.source, h.listed,
       (h.state = 'closed' AND (h.deadline IS NULL OR h.submitted_at IS NULL OR date(h.submitted_at, '+8 hours') <= h.deadline)),
       COUNT(*)
FROM hazard h JOIN d ON 1 + 33 * d.k <= length(h.unit_path)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
