-- Nothing changes on SQLite: it keeps the partial indexes of 0006. On
-- PostgreSQL this version drops them again (see ../postgres/0007_…); both
-- engines keep the same list of migration versions.
SELECT 1;
