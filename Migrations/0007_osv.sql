-- OSV that scanners can use: the packages a project ships (OSV's ecosystem and name), and the
-- references an advisory gives (fix commits, release notes) beside its page.
CREATE TABLE project_packages (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    ecosystem   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    PRIMARY KEY (project_id, position),
    UNIQUE (project_id, ecosystem, name)
) WITHOUT ROWID;

ALTER TABLE advisories ADD COLUMN reference_list TEXT NOT NULL DEFAULT '[]';   -- JSON: [{"type": "FIX", "url": "…"}]
