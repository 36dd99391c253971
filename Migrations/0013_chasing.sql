-- How a project chases its participants during an embargo, in seconds: a reminder to those
-- who have neither acknowledged nor answered, this long after the early notice; a final
-- private notice to every participant, this long before the release. NULL: none.
ALTER TABLE projects ADD COLUMN reminder_after INTEGER CHECK (reminder_after IS NULL OR reminder_after >= 60);
ALTER TABLE projects ADD COLUMN final_notice INTEGER CHECK (final_notice IS NULL OR final_notice >= 60);

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
