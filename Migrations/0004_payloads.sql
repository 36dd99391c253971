-- Message bodies live apart from delivery state. A delivery's row is rewritten when it is
-- claimed and when its outcome is recorded; with a 2 KB body inline every such change
-- rewrote a whole page per row. Recipients of the same bytes (the public channels of one
-- format) now share one body.
CREATE TABLE payloads (
    id    INTEGER PRIMARY KEY,
    body  BLOB    NOT NULL    -- RFC 5322 message, or the JSON body
);

-- Always set by Herald; nullable only because SQLite cannot add a NOT NULL reference.
ALTER TABLE deliveries ADD COLUMN payload_id INTEGER REFERENCES payloads (id);
INSERT INTO payloads (id, body) SELECT id, payload FROM deliveries;
UPDATE deliveries SET payload_id = id;
ALTER TABLE deliveries DROP COLUMN payload;
