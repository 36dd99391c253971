-- OpenPGP (issue 17): providers' keys, one per contact address; each project's signing key,
-- its secret sealed at rest under HERALD_KEY_ENCRYPTION_KEY; each project's policy for
-- private e-mail; and, per message, the neutral subject an encrypted copy shows outside (a
-- payload without one holds nothing private and is never encrypted) and the project whose
-- policy and key apply (for private mail that belongs to no notice of an advisory).
CREATE TABLE provider_keys (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL,
    armored      TEXT    NOT NULL,
    user_ids     TEXT    NOT NULL,            -- JSON array
    key_created  INTEGER NOT NULL,
    expires_at   INTEGER,
    added_at     INTEGER NOT NULL,
    added_by     TEXT    NOT NULL,
    warned_at    INTEGER,                     -- when its holder was told it expires soon
    UNIQUE (provider_id, email)
);

CREATE TABLE project_keys (
    project_id     INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    fingerprint    TEXT    NOT NULL,
    public_key     TEXT    NOT NULL,
    sealed_secret  BLOB    NOT NULL,          -- AES-GCM: nonce, ciphertext, tag
    created_at     INTEGER NOT NULL,
    can_encrypt    INTEGER NOT NULL DEFAULT 0,  -- only then is it offered for encryption (security.txt)
    addresses      TEXT    NOT NULL DEFAULT '[]' -- its user IDs' addresses (JSON), for the Web Key Directory
);

ALTER TABLE projects ADD COLUMN encryption TEXT NOT NULL DEFAULT 'when-available'
    CHECK (encryption IN ('off', 'when-available', 'required'));

ALTER TABLE payloads ADD COLUMN outer_subject TEXT;
ALTER TABLE payloads ADD COLUMN project_id INTEGER REFERENCES projects (id) ON DELETE SET NULL;
