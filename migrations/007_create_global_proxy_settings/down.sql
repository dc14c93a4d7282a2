DROP TABLE IF EXISTS global_proxy_settings;
