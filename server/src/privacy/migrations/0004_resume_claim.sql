-- Issue 14: an interrupted approval (request still `approved`) is resumed by the privacy job of ONE
-- process: `resumed_at` is its claim (compare-and-set), so two server processes on this database file
-- do not both carry it out. A claim older than the resume delay is stale (its process stopped) and may
-- be taken again.
ALTER TABLE privacy_requests ADD COLUMN resumed_at TEXT;
