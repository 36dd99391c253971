-- herald: rebuilds tables
-- The rest of coordination, added after 0012 and 0013 were committed (a migration never
-- changes once committed).

-- An address a contact adds to its organisation in the portal becomes a contact only when it
-- confirms, by a link mailed to it: no one adds someone else's address to their own entry.
CREATE TABLE contact_confirmations (
    hash          BLOB    PRIMARY KEY,
    provider_id   INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
) WITHOUT ROWID;

-- The reminder, the final notice and a declined proposal are notices of their own kinds;
-- SQLite cannot widen a CHECK in place. For a final notice, due_at is the release instant it
-- came before: it goes again only when the release moves.
CREATE TABLE notices_rebuilt (
    id           INTEGER PRIMARY KEY,
    advisory_id  INTEGER REFERENCES advisories (id),
    kind         TEXT    NOT NULL CHECK (kind = 'early-notice' OR kind = 'revision' OR kind = 'pre-announcement' OR kind = 'publication'
                                         OR kind = 'cancellation' OR kind = 'confirmation' OR kind = 'welcome' OR kind = 'channel-test'
                                         OR kind = 'contact-left' OR kind = 'alert' OR kind = 'sign-in'
                                         OR kind = 'reminder' OR kind = 'final-notice' OR kind = 'proposal-declined'),
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

-- Chasing may be set to a minute (0013 said an hour): the columns are made again with the
-- wider check, their values kept.
ALTER TABLE projects ADD COLUMN reminder_after_seconds INTEGER CHECK (reminder_after_seconds IS NULL OR reminder_after_seconds >= 60);
ALTER TABLE projects ADD COLUMN final_notice_seconds INTEGER CHECK (final_notice_seconds IS NULL OR final_notice_seconds >= 60);
UPDATE projects SET reminder_after_seconds = reminder_after, final_notice_seconds = final_notice;
ALTER TABLE projects DROP COLUMN reminder_after;
ALTER TABLE projects DROP COLUMN final_notice;
ALTER TABLE projects RENAME COLUMN reminder_after_seconds TO reminder_after;
ALTER TABLE projects RENAME COLUMN final_notice_seconds TO final_notice;

-- When the project releases, in its own zone (`Tue-Thu 14:00-17:00`); NULL: any time. An
-- embargo instant outside it needs a release manager's reason, which the audit log keeps.
ALTER TABLE projects ADD COLUMN release_window TEXT;

-- Embargo terms (JSON: deployment_allowed, patch_embargoed, tlp): a project's defaults, and an
-- advisory's own when it sets them. NULL: the project's, then Herald's standard terms.
ALTER TABLE projects ADD COLUMN embargo_terms TEXT;
ALTER TABLE advisories ADD COLUMN embargo_terms TEXT;

-- A hardware-style embargo may need more than 90 days: an admin raises a project's limit (to
-- at most a year) with a reason the audit log keeps. NULL: the ordinary limit holds.
ALTER TABLE projects ADD COLUMN max_embargo_days_raised INTEGER
    CHECK (max_embargo_days_raised IS NULL OR max_embargo_days_raised BETWEEN 91 AND 365);
