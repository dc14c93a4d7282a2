-- Where the recording of a stream is stored.
ALTER TABLE streams ADD COLUMN recording_path VARCHAR(1000);
