-- The PostgreSQL store of Lotse, format 1. Every record is kept whole as JSONB (`record`, the
-- payload of the format envelope, with its version in `v`) beside the columns that queries
-- filter or sort by. Layout and guarantees: docs/store.md, docs/operations.md.

-- Sequence numbers of audit entries, messages and outbox deliveries (one sequence, as in sled).
CREATE SEQUENCE lotse_ids START 1;

CREATE TABLE drafts (
    id        bytea PRIMARY KEY,
    tenant    text NOT NULL,
    revision  bigint NOT NULL,
    expires   timestamptz NOT NULL,
    -- SHA-256 of the normalized resume code: the code itself is never indexed.
    code_hash bytea NOT NULL,
    v         integer NOT NULL,
    record    jsonb NOT NULL
);
CREATE INDEX drafts_code_hash ON drafts (code_hash);
CREATE INDEX drafts_expires ON drafts (expires);

-- The last reference number per tenant and year: bumped inside the submit transaction, so the
-- row lock orders the submitters of one tenant across all nodes.
CREATE TABLE reference_counters (
    tenant text NOT NULL,
    year   integer NOT NULL,
    last   bigint NOT NULL,
    PRIMARY KEY (tenant, year)
);

CREATE TABLE submissions (
    id              bytea PRIMARY KEY,
    tenant          text NOT NULL,
    year            integer NOT NULL,
    number          bigint NOT NULL,
    idempotency_key text NOT NULL,
    v               integer NOT NULL,
    record          jsonb NOT NULL,
    CONSTRAINT submissions_reference UNIQUE (tenant, year, number),
    CONSTRAINT submissions_idempotency UNIQUE (tenant, idempotency_key)
);

-- The status history of a submission (one row, the whole history as JSONB).
CREATE TABLE submission_status (
    submission bytea PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    current    text NOT NULL,
    changed    timestamptz NOT NULL,
    v          integer NOT NULL,
    record     jsonb NOT NULL
);
CREATE INDEX submission_status_closed ON submission_status (changed)
    WHERE current IN ('abgeschlossen', 'abgelehnt');

CREATE TABLE messages (
    seq        bigint PRIMARY KEY,
    submission bytea NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    v          integer NOT NULL,
    record     jsonb NOT NULL
);
CREATE INDEX messages_submission ON messages (submission, seq);

CREATE TABLE audit (
    seq    bigint PRIMARY KEY,
    v      integer NOT NULL,
    record jsonb NOT NULL
);

-- `due`: when a pending delivery is due or a claim's lease ends; NULL once delivered or given
-- up (`finished` says when).
CREATE TABLE outbox (
    id       bigint PRIMARY KEY,
    due      timestamptz,
    finished timestamptz,
    v        integer NOT NULL,
    record   jsonb NOT NULL
);
CREATE INDEX outbox_due ON outbox (due) WHERE due IS NOT NULL;
CREATE INDEX outbox_finished ON outbox (finished) WHERE finished IS NOT NULL;

-- What the nodes of one installation share: the CSRF secret, development signing keys.
-- Written once (INSERT ... ON CONFLICT DO NOTHING), then only read.
CREATE TABLE node_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- Wrong resume codes per client key, counted across nodes in a fixed window.
CREATE TABLE resume_attempts (
    client       text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL
);
CREATE INDEX resume_attempts_window ON resume_attempts (window_start);

-- Receipts (signed PDFs) by submission: any node serves any receipt.
CREATE TABLE receipts (
    submission bytea PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    pdf        bytea NOT NULL
);
