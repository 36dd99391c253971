-- Message bodies live apart from delivery state. A delivery's row is rewritten when it is
-- claimed and when its outcome is recorded; with a 2 KB body inline every such change
-- rewrote a whole page per row. Recipients of the same bytes (the public channels of one
-- format) now share one body.
--
-- The table is rebuilt rather than altered, for two more reasons of the same kind: its
-- CHECK lists of more than two values became a temporary table built on every insert (now
-- OR chains, which compile to comparisons), deliveries_due duplicated what
-- deliveries_host_due already answers, and public channels' rows need no provider index.
CREATE TABLE payloads (
    id    INTEGER PRIMARY KEY,
    body  BLOB    NOT NULL    -- RFC 5322 message, or the JSON body
);

CREATE TABLE deliveries_rebuilt (
    id               INTEGER PRIMARY KEY,
    notice_id        INTEGER NOT NULL REFERENCES notices (id),
    provider_id      INTEGER REFERENCES providers (id),
    channel_id       INTEGER,            -- no foreign key: a removed channel keeps its record
    transport        TEXT    NOT NULL CHECK (transport IN ('email', 'webhook')),
    format           TEXT    NOT NULL CHECK (format = 'email' OR format = 'slack' OR format = 'mattermost' OR format = 'discord'
                                             OR format = 'teams' OR format = 'matrix' OR format = 'webhook'),
    recipient        TEXT    NOT NULL,   -- an address or a URL
    host             TEXT    NOT NULL,   -- for the per-host limit
    message_id       TEXT    NOT NULL UNIQUE,
    payload_id       INTEGER NOT NULL REFERENCES payloads (id),
    secret           TEXT,               -- signing secret (webhook) or access token (matrix), as at fan-out
    state            TEXT    NOT NULL CHECK (state = 'pending' OR state = 'retrying' OR state = 'delivered' OR state = 'dead'),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER,
    delivered_via    TEXT,               -- where it went: smtp://relay:587, maildir:/var/mail
    created_at       INTEGER NOT NULL
);

INSERT INTO payloads (id, body) SELECT id, payload FROM deliveries;
INSERT INTO deliveries_rebuilt (id, notice_id, provider_id, channel_id, transport, format, recipient, host, message_id, payload_id,
                                secret, state, attempts, next_attempt_at, lease_until, last_error, delivered_at, delivered_via, created_at)
    SELECT id, notice_id, provider_id, channel_id, transport, format, recipient, host, message_id, id,
           secret, state, attempts, next_attempt_at, lease_until, last_error, delivered_at, delivered_via, created_at
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_rebuilt RENAME TO deliveries;

-- Claims go host by host, so a host's backlog is never scanned to reach another host's rows.
CREATE INDEX deliveries_host_due ON deliveries (host, next_attempt_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX deliveries_notice ON deliveries (notice_id);
-- Public channels' deliveries have no provider: they stay out of this index.
CREATE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
