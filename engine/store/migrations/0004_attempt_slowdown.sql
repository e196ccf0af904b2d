-- Attempts are reserved before a secret is checked (resume codes, staff passwords), under two
-- policies sharing the table: a hard limit per window (window_start = the window's start) and
-- a slowdown (window_start = the last attempt, not_before = when the next may come).
ALTER TABLE resume_attempts ADD COLUMN not_before timestamptz;
