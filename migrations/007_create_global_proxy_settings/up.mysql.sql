-- The proxy every download goes through, when enabled.
CREATE TABLE IF NOT EXISTS global_proxy_settings (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    proxy_url VARCHAR(500),
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);
