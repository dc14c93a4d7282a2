-- Indexes for the stream list: by streamer, by start time, by title.
CREATE INDEX streams_streamer_id ON streams (streamer_id);
CREATE INDEX streams_started_at ON streams (started_at);
CREATE INDEX streams_title ON streams (title);
