-- The proxy every download goes through, when enabled.
CREATE TABLE global_proxy_settings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    proxy_url VARCHAR(500),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
