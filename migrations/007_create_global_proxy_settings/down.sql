DROP TABLE global_proxy_settings;
