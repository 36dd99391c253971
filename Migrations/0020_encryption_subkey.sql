-- Issue 17's speed: the encryption subkey librnp verified when a provider's key was added, by
-- fingerprint, and until when it may be used (its expiry or its binding signature's; NULL:
-- never). A notice to a Curve25519 subkey is then encrypted without librnp reading and
-- verifying the whole key again on every send. NULL for keys added before this (and for keys
-- whose primary encrypts): librnp keeps encrypting to those.
ALTER TABLE provider_keys ADD COLUMN encryption_subkey TEXT;
ALTER TABLE provider_keys ADD COLUMN encryption_subkey_expires INTEGER;
