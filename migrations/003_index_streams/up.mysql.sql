-- Indexes for the stream list: by start time and by title. InnoDB already indexes
-- streamer_id for its foreign key.
CREATE INDEX streams_started_at ON streams (started_at);
CREATE INDEX streams_title ON streams (title);
