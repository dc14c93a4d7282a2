DROP TABLE system_config;
