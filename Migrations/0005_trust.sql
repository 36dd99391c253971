-- What outside testing found (issue 11), fixed in the schema.

-- An organisation is unique among members (active or suspended) only. A request that is not
-- approved yet never blocks anyone, so subscribing does the same work and answers the same
-- whatever the list holds; a duplicate is refused when a release manager approves it.
DROP INDEX providers_organization;
CREATE UNIQUE INDEX providers_member_organization ON providers (lower(organization)) WHERE status IN ('active', 'suspended');
-- Unconfirmed requests expire after 48 hours; the sweep finds them by age.
CREATE INDEX providers_unconfirmed ON providers (created_at) WHERE status = 'pending-confirmation';

-- Message-IDs and webhook-ids come from a random key per notice, not from its row id: a gap
-- in a public list's ids would count the private notices in between.
ALTER TABLE notices ADD COLUMN key TEXT NOT NULL DEFAULT '';
UPDATE notices SET key = lower(hex(randomblob(8)));

-- Signing secrets and access tokens are read from the channel or webhook at send time, not
-- copied into every delivery row.
ALTER TABLE deliveries DROP COLUMN secret;
