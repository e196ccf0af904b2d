-- Format 3 of the PostgreSQL store: receipts stay out of line without PostgreSQL's own
-- compression. A receipt is a PDF whose streams are compressed already (about 93 KB for the
-- dog-tax assistant); pglz tried every one of them, never got it smaller, and spent about a fifth
-- of the database's CPU on it under load (docs/BENCHMARKS.md). Applies to receipts stored from
-- now on. Never edit a migration once released; add the next one.
ALTER TABLE receipts ALTER COLUMN pdf SET STORAGE EXTERNAL;
