DROP TABLE streamers;
