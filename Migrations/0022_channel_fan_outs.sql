-- Issue 18: a publication writes its public channels' rows a share per transaction, as a
-- provider notice writes its providers: the first share with the publication, the rest by the
-- scheduler right after. Writing every row at the instant put the first send 35-60 ms after it
-- for 10,000 webhook endpoints and 0.4-0.5 s for 100,000, and held the write lock as long. A row here is a
-- notice not yet written to all its channels: the last channel written and, per kind and
-- language, the body its rows share. The row goes when the last channel is written; after a
-- crash the scheduler writes the rest.
CREATE TABLE channel_fan_outs (
    notice_id         INTEGER PRIMARY KEY REFERENCES notices (id),
    advisory_id       INTEGER NOT NULL REFERENCES advisories (id),
    project_id        INTEGER NOT NULL REFERENCES projects (id),
    after_channel     INTEGER NOT NULL,
    last_channel      INTEGER NOT NULL,  -- the last channel there was at the instant: none added later gets it
    groups            TEXT    NOT NULL,  -- [[kind, language or null, payload id]]
    project_language  TEXT    NOT NULL   -- the language of a channel without one of its own
);
CREATE INDEX channel_fan_outs_advisory ON channel_fan_outs (advisory_id);
-- A project's channels in id order, and its kinds and languages from an index alone (not every row).
CREATE INDEX channels_project ON channels (project_id, id);
CREATE INDEX channels_groups ON channels (project_id, kind, language) WHERE disabled_at IS NULL;
