-- Per-streamer recording preferences.
CREATE TABLE recording_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    streamer_id INTEGER NOT NULL UNIQUE,
    quality VARCHAR(20) NOT NULL DEFAULT 'best',
    supported_codecs VARCHAR(100) NOT NULL DEFAULT 'h264,h265',
    auto_record BOOLEAN NOT NULL DEFAULT TRUE,
    FOREIGN KEY (streamer_id) REFERENCES streamers (id) ON DELETE CASCADE
);
