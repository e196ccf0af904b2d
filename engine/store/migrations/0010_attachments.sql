-- Attachments (Nachweise): one row per content, named by its SHA-256, and its bytes in chunks
-- of 1 MiB, so that a file streams in and out without being held whole.

CREATE TABLE attachments (
    hash    bytea PRIMARY KEY,
    size    bigint NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attachment_chunks (
    hash  bytea NOT NULL REFERENCES attachments (hash) ON DELETE CASCADE,
    n     integer NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (hash, n)
);
