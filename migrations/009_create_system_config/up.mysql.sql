-- Application settings, with their defaults.
CREATE TABLE IF NOT EXISTS system_config (
    config_key VARCHAR(100) NOT NULL PRIMARY KEY,
    config_value VARCHAR(1000) NOT NULL,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);
INSERT INTO system_config (config_key, config_value) VALUES ('recordings_path', '/recordings');
INSERT INTO system_config (config_key, config_value) VALUES ('cleanup_after_days', '30');
