-- How a project chases its participants during an embargo, in seconds: a reminder to those
-- who have neither acknowledged nor answered, this long after the early notice; a final
-- private notice to every participant, this long before the release. NULL: none.
ALTER TABLE projects ADD COLUMN reminder_after INTEGER CHECK (reminder_after IS NULL OR reminder_after >= 3600);
ALTER TABLE projects ADD COLUMN final_notice INTEGER CHECK (final_notice IS NULL OR final_notice >= 3600);
