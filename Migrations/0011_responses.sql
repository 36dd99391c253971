-- Participants' answers to an advisory: every answer is a row (history, not an overwrite);
-- the newest per advisory and provider is where it stands. The statement is for release
-- managers, and for the other participants only when shareable.
CREATE TABLE responses (
    id            INTEGER PRIMARY KEY,
    advisory_id   INTEGER NOT NULL REFERENCES advisories (id),
    provider_id   INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status = 'affected' OR status = 'not-affected' OR status = 'ready' OR status = 'needs-more-time'),
    proposed_at   INTEGER,
    statement     TEXT    NOT NULL DEFAULT '',
    shareable     INTEGER NOT NULL DEFAULT 0,
    answered_at   INTEGER NOT NULL,
    answered_by   TEXT    NOT NULL,
    CHECK ((status = 'needs-more-time') = (proposed_at IS NOT NULL))
);
CREATE INDEX responses_by_advisory ON responses (advisory_id, provider_id, id);

-- When a participant first opened a link of an advisory's notices (or its portal page).
CREATE TABLE sightings (
    advisory_id    INTEGER NOT NULL REFERENCES advisories (id),
    provider_id    INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    first_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (advisory_id, provider_id)
) WITHOUT ROWID;
