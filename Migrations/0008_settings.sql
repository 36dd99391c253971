-- Settings every process renders with (the public URL, the sender …), kept in the database: a
-- `publish --now` from the command line says what `serve` would, whatever its environment.
CREATE TABLE settings (
    key         TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
