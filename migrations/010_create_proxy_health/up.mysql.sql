-- Results of the periodic proxy health check.
CREATE TABLE IF NOT EXISTS proxy_health (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    proxy_url VARCHAR(500) NOT NULL,
    checked_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    healthy BOOLEAN NOT NULL,
    latency_ms INTEGER,
    error VARCHAR(1000)
);
CREATE INDEX proxy_health_checked_at ON proxy_health (checked_at);
