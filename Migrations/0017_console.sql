-- The release managers' console: accounts (an address and a role, the roles of API tokens),
-- signed in by a single-use link mailed to the account's address and then a TOTP code
-- (RFC 6238). Links, sessions and recovery codes are stored only as hashes of their tokens;
-- the TOTP secret has to be read to check a code, so it is stored as it is (SECURITY.md).
CREATE TABLE console_accounts (
    id                INTEGER PRIMARY KEY,
    email             TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role              TEXT    NOT NULL CHECK (role = 'admin' OR role = 'release-manager' OR role = 'auditor'),
    -- Set when enrolment starts; the account is enrolled once a code from it was right.
    totp_secret       BLOB,
    totp_enrolled_at  INTEGER,
    -- The time step of the last code used: a code works once.
    totp_last_step    INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    disabled_at       INTEGER
);

CREATE TABLE console_sign_ins (
    hash        BLOB    PRIMARY KEY,
    email       TEXT    NOT NULL,
    account_id  INTEGER REFERENCES console_accounts (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX console_sign_ins_by_email ON console_sign_ins (email, created_at);

-- A session opened by a link is not yet signed in: `verified_at` is set by the second factor.
CREATE TABLE console_sessions (
    hash          BLOB    PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES console_accounts (id),
    csrf          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    verified_at   INTEGER,
    failed_codes  INTEGER NOT NULL DEFAULT 0,
    ended_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX console_sessions_by_account ON console_sessions (account_id);

CREATE TABLE console_recovery_codes (
    account_id  INTEGER NOT NULL REFERENCES console_accounts (id),
    hash        BLOB    NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (account_id, hash)
) WITHOUT ROWID;
