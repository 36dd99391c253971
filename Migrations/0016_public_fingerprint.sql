-- The public cache asks for the public fingerprint (PublicStore.fingerprint) at most every
-- 100 ms; its listed-providers part read every provider row, 11 ms with 100,000 providers.
-- Only the listed active ones count: this index holds only them.
CREATE INDEX providers_listed ON providers (updated_at) WHERE status = 'active' AND listed = 1;
