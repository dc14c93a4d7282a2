-- One row per live stream of a streamer.
CREATE TABLE streams (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    streamer_id BIGINT NOT NULL,
    title VARCHAR(500),
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at TIMESTAMPTZ NULL,
    FOREIGN KEY (streamer_id) REFERENCES streamers (id)
);
