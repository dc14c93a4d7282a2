DROP TABLE IF EXISTS system_config;
