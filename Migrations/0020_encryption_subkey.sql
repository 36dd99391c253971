-- Issue 17's speed: the encryption subkey librnp verified and chose when a provider's key was
-- added, by fingerprint. A notice to a Curve25519 subkey is then encrypted without librnp
-- reading and verifying the whole key again on every send. NULL for keys added before this
-- (and for keys whose primary encrypts): librnp keeps encrypting to those.
ALTER TABLE provider_keys ADD COLUMN encryption_subkey TEXT;
