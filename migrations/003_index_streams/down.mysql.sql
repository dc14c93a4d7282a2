DROP INDEX streams_started_at ON streams;
DROP INDEX streams_title ON streams;
