ALTER TABLE streams DROP COLUMN recording_path;
