DROP INDEX streams_streamer_id;
DROP INDEX streams_started_at;
DROP INDEX streams_title;
