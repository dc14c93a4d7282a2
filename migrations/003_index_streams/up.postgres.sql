-- waterline:no-transaction
-- Built CONCURRENTLY so recording never stops on a large table: outside a transaction, one
-- statement at a time.
CREATE INDEX CONCURRENTLY streams_streamer_id ON streams (streamer_id);
CREATE INDEX CONCURRENTLY streams_started_at ON streams (started_at);
CREATE INDEX CONCURRENTLY streams_title ON streams (title);
