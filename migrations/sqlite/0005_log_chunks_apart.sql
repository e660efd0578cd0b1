-- Log chunks live in their own database file from here on
-- (migrations/sqlite-logs/0001_log_chunks.sql). Before this runs, the store has copied
-- any rows of this table there (src/store/sqlite/logs.rs).
DROP TABLE main.log_chunks;
