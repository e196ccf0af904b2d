-- Citizen sign-in (docs/login.md): citizen sessions (kind 1), sign-ins in progress (kind 2) and
-- the replay cache of identity assertions (kind 3), each by the SHA-256 of its secret, with an
-- expiry the sweep uses. Shared by every node.

CREATE TABLE citizen_login (
    kind    smallint NOT NULL,
    key     bytea NOT NULL,
    expires timestamptz NOT NULL,
    v       integer NOT NULL,
    record  jsonb NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE INDEX citizen_login_expiry ON citizen_login (expires);

-- Mein Konto: the drafts of a signed-in citizen, by the SHA-256 of the pseudonymous id.
CREATE TABLE citizen_links (
    citizen bytea NOT NULL,
    draft   text NOT NULL,
    created timestamptz NOT NULL,
    v       integer NOT NULL,
    record  jsonb NOT NULL,
    PRIMARY KEY (citizen, draft)
);
