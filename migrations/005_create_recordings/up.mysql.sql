-- Recorded files; they go when their streamer goes.
CREATE TABLE IF NOT EXISTS recordings (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    streamer_id BIGINT NOT NULL,
    stream_id BIGINT NULL,
    path VARCHAR(1000) NOT NULL,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    FOREIGN KEY (streamer_id) REFERENCES streamers (id) ON DELETE CASCADE,
    FOREIGN KEY (stream_id) REFERENCES streams (id) ON DELETE SET NULL
);
