-- herald: rebuilds tables
-- The provider portal: a contact asks for a sign-in link (every request is counted, known
-- address or not, so the form can be limited per address without telling who is on the
-- list); the link is single-use and short-lived, and starts a session. Both are stored only
-- as hashes of their tokens.
CREATE TABLE portal_sign_ins (
    hash         BLOB    PRIMARY KEY,
    email        TEXT    NOT NULL,
    provider_id  INTEGER REFERENCES providers (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX portal_sign_ins_by_email ON portal_sign_ins (email, created_at);

CREATE TABLE portal_sessions (
    hash          BLOB    PRIMARY KEY,
    provider_id   INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL,
    csrf          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    ended_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX portal_sessions_by_provider ON portal_sessions (provider_id);

-- The sign-in link is a notice of its own kind; SQLite cannot widen a CHECK in place.
CREATE TABLE notices_rebuilt (
    id           INTEGER PRIMARY KEY,
    advisory_id  INTEGER REFERENCES advisories (id),
    kind         TEXT    NOT NULL CHECK (kind = 'early-notice' OR kind = 'revision' OR kind = 'pre-announcement' OR kind = 'publication'
                                         OR kind = 'cancellation' OR kind = 'confirmation' OR kind = 'welcome' OR kind = 'channel-test'
                                         OR kind = 'contact-left' OR kind = 'alert' OR kind = 'sign-in'),
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
