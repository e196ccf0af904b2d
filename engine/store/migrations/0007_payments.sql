-- Format 7 of the PostgreSQL store: payments applications wait for before they reach the
-- office (docs/payment.md). One row per application (tenant and submit key unique); `open`
-- marks what the reconciliation job still asks the platform about.

CREATE TABLE payments (
    id       bytea PRIMARY KEY,
    tenant   text NOT NULL,
    key      text NOT NULL,
    revision bigint NOT NULL,
    open     boolean NOT NULL,
    updated  timestamptz NOT NULL,
    v        integer NOT NULL,
    record   jsonb NOT NULL,
    CONSTRAINT payments_tenant_key UNIQUE (tenant, key)
);

CREATE INDEX payments_open ON payments (updated) WHERE open;
