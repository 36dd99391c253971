-- A fan-out's e-mail to providers is one template per language (MailTemplate): the rows of a
-- 100,000-recipient notice share it and hold only what differs (address, Message-ID), and the
-- message is assembled when it is sent. A template's slots are filled; a body is sent as is.
ALTER TABLE payloads ADD COLUMN is_template INTEGER NOT NULL DEFAULT 0 CHECK (is_template IN (0, 1));

-- The key that signs the links of such messages: a link token is the delivery's id and a MAC
-- of it, so a fan-out writes no token row per recipient. Made on first use, 32 random bytes.
CREATE TABLE link_keys (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    key  BLOB    NOT NULL CHECK (length(key) = 32)
);
