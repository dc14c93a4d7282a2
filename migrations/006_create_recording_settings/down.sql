DROP TABLE IF EXISTS recording_settings;
