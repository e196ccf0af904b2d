-- Appointments (Online-Terminvereinbarung): a booked visit per row, and a row per office and
-- day that holds, confirmations and cancellations lock, so that the visits of one office and
-- day are counted by one transaction at a time on every node.

CREATE TABLE visit_days (
    tenant text NOT NULL,
    office text NOT NULL,
    day    date NOT NULL,
    PRIMARY KEY (tenant, office, day)
);

CREATE TABLE visits (
    id         bytea PRIMARY KEY,
    tenant     text NOT NULL,
    office     text NOT NULL,
    day        date NOT NULL,
    v          integer NOT NULL,
    record     jsonb NOT NULL
);

CREATE INDEX visits_by_day ON visits (tenant, office, day);
