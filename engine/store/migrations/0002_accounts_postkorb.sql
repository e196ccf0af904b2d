-- Format 2 of the PostgreSQL store: staff accounts, their sessions and API tokens (the Postkorb),
-- the columns the Postkorb list filters and sorts by, and the outbox by tenant. Never edit a
-- migration once released; add the next one.

-- Staff accounts. The login is stored normalised (lower case) and unique per tenant, as the
-- sled store's `account_logins` index keeps it.
CREATE TABLE accounts (
    id      bytea PRIMARY KEY,
    tenant  text NOT NULL,
    login   text NOT NULL,
    v       integer NOT NULL,
    record  jsonb NOT NULL,
    CONSTRAINT accounts_login UNIQUE (tenant, login)
);

-- Signed-in browsers, by the SHA-256 of their cookie value. Not exported (as on sled): after a
-- move everyone signs in again.
CREATE TABLE sessions (
    hash    bytea PRIMARY KEY,
    account bytea NOT NULL,
    expires timestamptz NOT NULL,
    v       integer NOT NULL,
    record  jsonb NOT NULL
);
CREATE INDEX sessions_account ON sessions (account);
CREATE INDEX sessions_expires ON sessions (expires);

-- API tokens, by the SHA-256 of the token; the id (shown to administrators) is unique too.
CREATE TABLE api_tokens (
    hash    bytea PRIMARY KEY,
    id      bytea NOT NULL,
    tenant  text NOT NULL,
    created timestamptz NOT NULL,
    v       integer NOT NULL,
    record  jsonb NOT NULL,
    CONSTRAINT api_tokens_id UNIQUE (id)
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant, created);

-- The Postkorb list: submission time, service and reference as columns beside the record,
-- filled from the record by a trigger (every insert path gets them: submit and import).
ALTER TABLE submissions
    ADD COLUMN submitted   timestamptz,
    ADD COLUMN workflow_id text,
    ADD COLUMN reference   text;

CREATE FUNCTION submissions_postkorb_columns() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.submitted := (NEW.record->>'submitted')::timestamptz;
    NEW.workflow_id := NEW.record->>'workflow_id';
    NEW.reference := NEW.record->>'reference';
    RETURN NEW;
END
$$;

CREATE TRIGGER submissions_postkorb_columns
    BEFORE INSERT OR UPDATE OF record ON submissions
    FOR EACH ROW EXECUTE FUNCTION submissions_postkorb_columns();

UPDATE submissions SET
    submitted = (record->>'submitted')::timestamptz,
    workflow_id = record->>'workflow_id',
    reference = record->>'reference';

ALTER TABLE submissions
    ALTER COLUMN submitted SET NOT NULL,
    ALTER COLUMN workflow_id SET NOT NULL,
    ALTER COLUMN reference SET NOT NULL;

-- Newest first per tenant; the id breaks ties as in sled's index key.
CREATE INDEX submissions_postkorb ON submissions (tenant, submitted DESC, id DESC);

-- The Postkorb's list of deliveries: one tenant's, newest (highest id) first.
CREATE INDEX outbox_tenant ON outbox ((record->'tenant'->>'slug'), id DESC);
