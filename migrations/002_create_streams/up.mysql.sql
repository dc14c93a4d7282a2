-- One row per live stream of a streamer.
CREATE TABLE IF NOT EXISTS streams (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    streamer_id BIGINT NOT NULL,
    title VARCHAR(500),
    started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    ended_at DATETIME(6) NULL,
    FOREIGN KEY (streamer_id) REFERENCES streamers (id)
);
