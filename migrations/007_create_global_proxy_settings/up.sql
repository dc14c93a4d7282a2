-- The proxy every download goes through, when enabled.
CREATE TABLE global_proxy_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    proxy_url VARCHAR(500),
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
