-- Providers acknowledge notices through the link in each message: once per provider, notice
-- and revision, shown in `herald advisory show`.
CREATE TABLE acknowledgements (
    provider_id      INTEGER NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    notice_id        INTEGER NOT NULL REFERENCES notices (id),
    acknowledged_at  INTEGER NOT NULL,
    PRIMARY KEY (provider_id, notice_id)
) WITHOUT ROWID;
