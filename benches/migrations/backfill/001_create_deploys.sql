-- The schema the app had before the deploy that adds the backfill: applied once, untimed, so
-- that the timed start-ups find the tracking tables in place, as a deploy does.
CREATE TABLE deploys (id INTEGER PRIMARY KEY, note VARCHAR(100));
