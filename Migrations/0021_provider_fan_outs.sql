-- herald: rebuilds tables
-- Issue 18: a provider notice is written in transactions of a few thousand providers, so a
-- publication due meanwhile waits for one of them rather than for a 100,000-row fan-out. A row
-- here is a notice not yet written to all its providers: whom it goes to (the audience rule of
-- FanOutPlan, for this advisory and project), the last provider written, and the stored
-- templates each address's row refers to. The scheduler writes the rest, after a crash too;
-- the row goes when the last provider is written.
CREATE TABLE provider_fan_outs (
    notice_id         INTEGER PRIMARY KEY REFERENCES notices (id),
    advisory_id       INTEGER NOT NULL REFERENCES advisories (id),
    project_id        INTEGER NOT NULL REFERENCES projects (id),
    audience          TEXT    NOT NULL CHECK (audience IN ('active-followers', 'told-before', 'silent-participants')),
    after_provider    INTEGER NOT NULL,
    templates         TEXT    NOT NULL,  -- {language: payload id}
    waiting_templates TEXT    NOT NULL,  -- {language: payload id}: where a key is required and missing
    fallback_language TEXT    NOT NULL,  -- whose templates a provider gets whose language has none
    key_required      INTEGER NOT NULL CHECK (key_required IN (0, 1))
);
CREATE INDEX provider_fan_outs_advisory ON provider_fan_outs (advisory_id);
-- The deliveries again, without a unique index on message_id: a Message-ID is a hash, so each
-- row went to a random place in that index, and a share of 500 rows touched about 500 of its
-- pages (4/5 of a share's time, measured). Nothing looks a row up by it; a notice is written
-- once (notices_once) and a provider's rows once per notice (checked by the next index).
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
    message_id       TEXT    NOT NULL,
    payload_id       INTEGER NOT NULL REFERENCES payloads (id),
    state            TEXT    NOT NULL CHECK (state = 'pending' OR state = 'retrying' OR state = 'delivered' OR state = 'dead'),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER,
    delivered_via    TEXT,               -- where it went: smtp://relay:587, maildir:/var/mail
    created_at       INTEGER NOT NULL
);
INSERT INTO deliveries_rebuilt SELECT id, notice_id, provider_id, channel_id, transport, format, recipient, host, message_id,
    payload_id, state, attempts, next_attempt_at, lease_until, last_error, delivered_at, delivered_via, created_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_rebuilt RENAME TO deliveries;
CREATE INDEX deliveries_host_due ON deliveries (host, next_attempt_at) WHERE state IN ('pending', 'retrying');
-- Whether a provider already has an address's row of a notice (it joined while the notice was
-- being written, and was told then) is one seek.
CREATE INDEX deliveries_notice ON deliveries (notice_id, provider_id);
-- Public channels' deliveries have no provider: they stay out of this index.
CREATE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
-- Which languages a notice's audience reads: one seek per language.
CREATE INDEX providers_language ON providers (language);
