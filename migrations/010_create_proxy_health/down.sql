DROP TABLE IF EXISTS proxy_health;
