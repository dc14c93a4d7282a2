-- Results of the periodic proxy health check.
CREATE TABLE proxy_health (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    proxy_url VARCHAR(500) NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    healthy BOOLEAN NOT NULL,
    latency_ms INTEGER,
    error VARCHAR(1000)
);
CREATE INDEX proxy_health_checked_at ON proxy_health (checked_at);
