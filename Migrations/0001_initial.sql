-- Herald's first schema. Instants are INTEGER milliseconds since the Unix epoch, UTC.
-- Enumerations are TEXT with CHECK constraints so a bad value can never be stored.

CREATE TABLE projects (
    id                INTEGER PRIMARY KEY,
    slug              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    timezone          TEXT    NOT NULL,
    max_embargo_days  INTEGER NOT NULL CHECK (max_embargo_days BETWEEN 1 AND 90),
    created_at        INTEGER NOT NULL
);

CREATE TABLE providers (
    id            INTEGER PRIMARY KEY,
    organization  TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending-confirmation', 'pending-approval', 'active', 'suspended', 'removed')),
    listed        INTEGER NOT NULL DEFAULT 0 CHECK (listed IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- One live provider per organisation; a removed one may come back as a new row.
CREATE UNIQUE INDEX providers_organization ON providers (lower(organization)) WHERE status <> 'removed';

CREATE TABLE provider_contacts (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    UNIQUE (provider_id, email)
);

CREATE TABLE provider_webhooks (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    url          TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('slack', 'mattermost', 'discord', 'teams', 'matrix', 'webhook')),
    secret       TEXT,
    disabled_at  INTEGER,
    UNIQUE (provider_id, url)
);

CREATE TABLE subscriptions (
    provider_id  INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (provider_id, project_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_project ON subscriptions (project_id);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('email', 'slack', 'mattermost', 'discord', 'teams', 'matrix', 'webhook')),
    target      TEXT    NOT NULL,
    secret      TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, kind, target)
);

CREATE TABLE advisories (
    id               INTEGER PRIMARY KEY,
    public_id        TEXT    NOT NULL UNIQUE,
    project_id       INTEGER NOT NULL REFERENCES projects (id),
    state            TEXT    NOT NULL CHECK (state IN ('draft', 'scheduled', 'published', 'cancelled')),
    revision         INTEGER NOT NULL CHECK (revision >= 1),
    title            TEXT    NOT NULL,
    summary          TEXT    NOT NULL DEFAULT '',
    body             TEXT    NOT NULL DEFAULT '',
    severity         TEXT    CHECK (severity IN ('low', 'moderate', 'high', 'critical')),
    cvss             TEXT,
    affected         TEXT    NOT NULL DEFAULT '',
    fixed            TEXT    NOT NULL DEFAULT '',
    embargo_at       INTEGER,
    early_notice_at  INTEGER,
    pre_announce_at  INTEGER,
    published_at     INTEGER,
    cancelled_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK (state <> 'scheduled' OR embargo_at IS NOT NULL),
    CHECK (state <> 'published' OR published_at IS NOT NULL)
);
CREATE INDEX advisories_project ON advisories (project_id);
CREATE INDEX advisories_due ON advisories (state, embargo_at);

CREATE TABLE advisory_cves (
    advisory_id  INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    cve          TEXT    NOT NULL,
    PRIMARY KEY (advisory_id, position),
    UNIQUE (advisory_id, cve)
) WITHOUT ROWID;

-- Every revision as it was, for the history on the advisory page and "who got which revision".
CREATE TABLE advisory_revisions (
    advisory_id  INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL,
    snapshot     TEXT    NOT NULL,   -- JSON of the advisory's content and dates at this revision
    reason       TEXT    NOT NULL DEFAULT '',
    actor        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (advisory_id, revision)
) WITHOUT ROWID;

CREATE TABLE audit (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    subject_type  TEXT    NOT NULL,
    subject_id    INTEGER,
    reason        TEXT    NOT NULL DEFAULT '',
    details       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_subject ON audit (subject_type, subject_id);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'release-manager', 'auditor')),
    hash        BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),   -- SHA-256 of the token; the token itself is never stored
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
