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
-- Whether a provider already has an address's row of a notice (it joined while the notice was
-- being written, and was told then) is one seek.
DROP INDEX deliveries_notice;
CREATE INDEX deliveries_notice ON deliveries (notice_id, provider_id);
-- Which languages a notice's audience reads: one seek per language.
CREATE INDEX providers_language ON providers (language);
