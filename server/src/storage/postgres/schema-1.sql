-- Meldpunt relay schema, version 1: the same records as the redb store (storage/mod.rs),
-- and nothing more. Ids are hashes (mailboxes, sessions, challenges) or random (attachments,
-- stamp nonces); days are day numbers; bodies are sealed. No address, token, time of day or
-- plaintext has a column here.

-- A mailbox: its record (JSON, as storage::MailboxRecord) and its last day of activity
-- (for retention).
CREATE TABLE mailboxes (
    id bytea PRIMARY KEY,
    record bytea NOT NULL,
    last_activity integer NOT NULL
);
CREATE INDEX mailboxes_by_activity ON mailboxes (last_activity);

-- A message: numbered within its organisation, placed within its mailbox.
CREATE TABLE messages (
    organisation text NOT NULL,
    number bigint NOT NULL,
    mailbox bytea NOT NULL,
    position integer NOT NULL,
    record bytea NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (organisation, number),
    UNIQUE (mailbox, position)
);

-- Each recipient's own numbering of the messages addressed to it.
CREATE TABLE recipient_messages (
    organisation text NOT NULL,
    recipient text NOT NULL,
    number bigint NOT NULL,
    organisation_number bigint NOT NULL,
    fetched boolean NOT NULL,
    PRIMARY KEY (organisation, recipient, number)
);
CREATE INDEX recipient_messages_by_message ON recipient_messages (organisation, organisation_number);

-- The next number of each numbering (organisation, recipient, hand-overs, case records).
CREATE TABLE counters (
    name text PRIMARY KEY,
    next bigint NOT NULL
);

CREATE TABLE attachments (
    id bytea PRIMARY KEY,
    mailbox bytea NOT NULL,
    complete boolean NOT NULL,
    day integer NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX attachments_by_mailbox ON attachments (mailbox);

CREATE TABLE attachment_chunks (
    id bytea NOT NULL,
    index integer NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (id, index)
);

CREATE TABLE hand_overs (
    organisation text NOT NULL,
    recipient text NOT NULL,
    number bigint NOT NULL,
    mailbox bytea NOT NULL,
    record bytea NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (organisation, recipient, number)
);
CREATE INDEX hand_overs_by_mailbox ON hand_overs (mailbox);

CREATE TABLE case_records (
    organisation text NOT NULL,
    recipient text NOT NULL,
    number bigint NOT NULL,
    mailbox bytea NOT NULL,
    index integer NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (organisation, recipient, number)
);
CREATE INDEX case_records_by_mailbox ON case_records (mailbox);

CREATE TABLE case_record_bodies (
    mailbox bytea NOT NULL,
    index integer NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (mailbox, index)
);

-- Office sessions, by the hash of their token.
CREATE TABLE sessions (
    id bytea PRIMARY KEY,
    organisation text NOT NULL,
    recipient text NOT NULL,
    expires_at bigint NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_recipient ON sessions (organisation, recipient);

-- Office challenges waiting for their answer, by the hash of the answer: any relay that
-- shares the database takes the answer.
CREATE TABLE office_challenges (
    id bytea PRIMARY KEY,
    organisation text NOT NULL,
    recipient text NOT NULL,
    expires_at bigint NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX office_challenges_by_expiry ON office_challenges (expires_at);
CREATE INDEX office_challenges_by_recipient ON office_challenges (organisation, recipient);

-- Spent proof-of-work stamp nonces, until their stamp expires.
CREATE TABLE spent_stamps (
    nonce bytea PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX spent_stamps_by_expiry ON spent_stamps (expires_at);

-- Keys every relay sharing the database uses alike: the proof-of-work challenge key and the
-- form-token key, so that what one relay issues another accepts. They only protect against
-- spam (they cannot open anything).
CREATE TABLE relay_keys (
    name text PRIMARY KEY,
    key bytea NOT NULL
);
