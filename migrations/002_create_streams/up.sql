-- One row per live stream of a streamer.
CREATE TABLE streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    streamer_id INTEGER NOT NULL,
    title VARCHAR(500),
    started_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ended_at TEXT NULL,
    FOREIGN KEY (streamer_id) REFERENCES streamers (id)
);
