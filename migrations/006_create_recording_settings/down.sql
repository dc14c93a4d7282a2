DROP TABLE recording_settings;
