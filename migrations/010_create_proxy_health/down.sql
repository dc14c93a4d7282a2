DROP TABLE proxy_health;
