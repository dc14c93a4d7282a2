-- Every existing streamer gets default recording settings.
INSERT INTO recording_settings (streamer_id)
SELECT s.id FROM streamers s
WHERE NOT EXISTS (SELECT 1 FROM recording_settings r WHERE r.streamer_id = s.id);
