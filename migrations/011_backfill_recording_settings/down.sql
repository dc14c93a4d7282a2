-- Removes the settings the backfill created and nobody changed since.
DELETE FROM recording_settings
WHERE quality = 'best' AND supported_codecs = 'h264,h265' AND auto_record = TRUE;
