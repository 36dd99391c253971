-- herald: rebuilds tables
-- One-click unsubscribe removes the address it was sent to, not the whole organisation: each
-- unsubscribe link names its address. When an address leaves, the organisation's other
-- addresses are told, in a notice of a new kind; SQLite cannot widen a CHECK in place, so
-- the notices table is rebuilt (with foreign keys off, as SQLite's ALTER TABLE page says).
ALTER TABLE link_tokens ADD COLUMN email TEXT;

CREATE TABLE notices_rebuilt (
    id           INTEGER PRIMARY KEY,
    advisory_id  INTEGER REFERENCES advisories (id),
    kind         TEXT    NOT NULL CHECK (kind = 'early-notice' OR kind = 'revision' OR kind = 'pre-announcement' OR kind = 'publication'
                                         OR kind = 'cancellation' OR kind = 'confirmation' OR kind = 'welcome' OR kind = 'channel-test'
                                         OR kind = 'contact-left' OR kind = 'alert'),
    revision     INTEGER NOT NULL DEFAULT 0,
    recipients   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    due_at       INTEGER,
    key          TEXT    NOT NULL DEFAULT ''
);
INSERT INTO notices_rebuilt (id, advisory_id, kind, revision, recipients, created_at, due_at, key)
    SELECT id, advisory_id, kind, revision, recipients, created_at, due_at, key FROM notices;
DROP TABLE notices;
ALTER TABLE notices_rebuilt RENAME TO notices;
CREATE UNIQUE INDEX notices_once ON notices (advisory_id, kind, revision) WHERE advisory_id IS NOT NULL;

-- Where a webhook delivery went was recorded as its whole URL, which may be the credential (a
-- chat webhook): keep the host only, as new deliveries record it; the same for the URL in the
-- audit row of an endpoint disabled by a 410.
UPDATE deliveries SET delivered_via = 'webhook:' || host WHERE transport = 'webhook' AND delivered_via IS NOT NULL;
UPDATE audit SET details = json_set(details, '$.url', herald_host(json_extract(details, '$.url')))
    WHERE action = 'endpoint.disable' AND json_extract(details, '$.url') IS NOT NULL;

-- The language a provider reads its messages in (en, nl, da), kept from now on: imports and
-- edits set it; the messages themselves are translated with the templates.
ALTER TABLE providers ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (language = 'en' OR language = 'nl' OR language = 'da');

-- Release managers are told when a private notice fails: at the project's contact address, and
-- in `advisory show`. An alert is raised once per advisory, kind and revision.
ALTER TABLE projects ADD COLUMN contact TEXT;
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    advisory_id  INTEGER NOT NULL REFERENCES advisories (id),
    kind         TEXT    NOT NULL CHECK (kind = 'private-notice-failing' OR kind = 'undelivered-before-release'
                                         OR kind = 'public-channel-failing'),
    revision     INTEGER NOT NULL,   -- the advisory's revision: a failure of a later revision is told again
    detail       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (advisory_id, kind, revision)
);
