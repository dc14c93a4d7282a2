-- Per-streamer recording preferences.
CREATE TABLE IF NOT EXISTS recording_settings (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    streamer_id BIGINT NOT NULL UNIQUE,
    quality VARCHAR(20) NOT NULL DEFAULT 'best',
    supported_codecs VARCHAR(100) NOT NULL DEFAULT 'h264,h265',
    auto_record BOOLEAN NOT NULL DEFAULT TRUE,
    FOREIGN KEY (streamer_id) REFERENCES streamers (id) ON DELETE CASCADE
);
