-- A release manager's decisions on who takes part in an advisory, beyond the rule (every active
-- follower of the project when the early notice goes out, and one that joins under embargo):
-- invite a provider that does not follow the project, or exclude one, with the reason. One row
-- per advisory and provider, the latest decision; the audit log keeps every one.
CREATE TABLE participation (
    advisory_id  INTEGER NOT NULL REFERENCES advisories (id),
    provider_id  INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    decision     TEXT    NOT NULL CHECK (decision IN ('invited', 'excluded')),
    reason       TEXT    NOT NULL DEFAULT '',
    decided_at   INTEGER NOT NULL,
    decided_by   TEXT    NOT NULL,
    PRIMARY KEY (advisory_id, provider_id)
) WITHOUT ROWID;
