-- The durable outbox. A notice is one message an advisory (or a subscription, or a channel
-- test) causes; it fans out into one delivery per recipient, written in the same transaction
-- as the state change that caused it. Workers lease due deliveries, send, and record.

CREATE TABLE notices (
    id           INTEGER PRIMARY KEY,
    advisory_id  INTEGER REFERENCES advisories (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('early-notice', 'revision', 'pre-announcement', 'publication',
                                                  'cancellation', 'confirmation', 'welcome', 'channel-test')),
    revision     INTEGER NOT NULL DEFAULT 0,
    recipients   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    due_at       INTEGER             -- the instant that caused it, for the publication lag
);
-- An advisory's notice of one kind goes out once per revision, however often the scheduler looks.
CREATE UNIQUE INDEX notices_once ON notices (advisory_id, kind, revision) WHERE advisory_id IS NOT NULL;

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    notice_id        INTEGER NOT NULL REFERENCES notices (id),
    provider_id      INTEGER REFERENCES providers (id),
    channel_id       INTEGER,            -- no foreign key: a removed channel keeps its record
    transport        TEXT    NOT NULL CHECK (transport IN ('email', 'webhook')),
    format           TEXT    NOT NULL CHECK (format IN ('email', 'slack', 'mattermost', 'discord', 'teams', 'matrix', 'webhook')),
    recipient        TEXT    NOT NULL,   -- an address or a URL
    host             TEXT    NOT NULL,   -- for the per-host limit
    message_id       TEXT    NOT NULL UNIQUE,
    payload          BLOB    NOT NULL,   -- RFC 5322 message, or the JSON body
    secret           TEXT,               -- signing secret (webhook) or access token (matrix), as at fan-out
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'retrying', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER,
    delivered_via    TEXT,               -- where it went: smtp://relay:587, maildir:/var/mail
    created_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'retrying');
-- Claims go host by host, so a host's backlog is never scanned to reach another host's rows.
CREATE INDEX deliveries_host_due ON deliveries (host, next_attempt_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX deliveries_notice ON deliveries (notice_id);
CREATE INDEX deliveries_provider ON deliveries (provider_id);

-- Single-purpose links in messages (acknowledge, unsubscribe, confirm). Only the hash is kept.
CREATE TABLE link_tokens (
    hash         BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    purpose      TEXT    NOT NULL CHECK (purpose IN ('ack', 'unsubscribe', 'confirm')),
    provider_id  INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    notice_id    INTEGER REFERENCES notices (id),
    expires_at   INTEGER,
    used_at      INTEGER
) WITHOUT ROWID;

ALTER TABLE channels ADD COLUMN disabled_at INTEGER;
