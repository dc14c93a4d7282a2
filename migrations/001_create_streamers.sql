CREATE TABLE streamers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
