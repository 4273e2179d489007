-- PostgreSQL gets an index led by the path over pending hazards here;
-- SQLite has had hazard_pending_path since 0006 (widened in 0011).
SELECT 1;
