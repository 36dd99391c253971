-- The language of a project's public messages and alerts, and of a channel that differs from
-- its project (en, nl, da). NULL: the project's, then the deployment's default-language.
ALTER TABLE projects ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('en', 'nl', 'da'));
ALTER TABLE channels ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('en', 'nl', 'da'));
