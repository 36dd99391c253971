-- The console's sign-in, after an outside review:
-- - wrong codes are counted per account as well as per session, so new links do not buy new
--   guesses: past a limit a day the account takes no codes until the day is over;
-- - a secret being enrolled belongs to the session that shows it, not to the account, so no
--   other link's holder learns it;
-- - sign-in links are counted per address and asker, so no one can use up an address's links.
ALTER TABLE console_accounts ADD COLUMN wrong_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE console_accounts ADD COLUMN wrong_codes_since INTEGER;
ALTER TABLE console_sessions ADD COLUMN pending_secret BLOB;
ALTER TABLE console_sign_ins ADD COLUMN requester TEXT NOT NULL DEFAULT '';
UPDATE console_accounts SET totp_secret = NULL WHERE totp_enrolled_at IS NULL;
