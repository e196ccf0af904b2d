-- Format 5 of the PostgreSQL store: the Postkorb for daily work and at scale. One row per
-- submission in `postkorb` with what the list shows and filters by (status, service, applicant,
-- assignee, follow-up date, search terms), counters per tenant, status, service and assignee in
-- `postkorb_counts`, and the office's internal notes. Both derived tables are kept by triggers
-- in the transaction that writes the records (submit, status and case changes, purge, import),
-- so they never disagree with them, whatever path wrote the rows.

CREATE TABLE postkorb (
    submission       bytea PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    tenant           text NOT NULL,
    submitted        timestamptz NOT NULL,
    workflow_id      text NOT NULL,
    workflow_version text NOT NULL,
    reference        text NOT NULL,
    year             integer NOT NULL,
    number           bigint NOT NULL,
    status           text NOT NULL,
    status_at        timestamptz NOT NULL,
    -- The account id (hex) the case is assigned to; '' for nobody (so counters can key on it).
    assignee         text NOT NULL DEFAULT '',
    follow_up        date,
    applicant        text,
    -- The search terms the store computed (lower case, umlauts spelt out), as a tsvector of
    -- the 'simple' configuration: a search asks for each typed word as a prefix.
    terms            tsvector NOT NULL
);

-- The status rides along in the list's and the follow-up index, so that the counts of a date
-- range or of what is due are index-only scans.
CREATE INDEX postkorb_list ON postkorb (tenant, submitted DESC, submission DESC) INCLUDE (status);
CREATE INDEX postkorb_status ON postkorb (tenant, status, submitted DESC, submission DESC);
CREATE INDEX postkorb_workflow ON postkorb (tenant, workflow_id, submitted DESC, submission DESC);
CREATE INDEX postkorb_assignee ON postkorb (tenant, assignee, submitted DESC, submission DESC)
    WHERE assignee <> '';
CREATE INDEX postkorb_due ON postkorb (tenant, follow_up) INCLUDE (status, submitted, submission)
    WHERE follow_up IS NOT NULL AND status NOT IN ('abgeschlossen', 'abgelehnt');
CREATE INDEX postkorb_number ON postkorb (tenant, number);
CREATE INDEX postkorb_terms ON postkorb USING gin (terms);

CREATE TABLE postkorb_counts (
    tenant      text NOT NULL,
    status      text NOT NULL,
    workflow_id text NOT NULL,
    assignee    text NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (tenant, status, workflow_id, assignee)
);

-- The row of a submission from its status row (insert) or its changes (update).
CREATE FUNCTION postkorb_from_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO postkorb (submission, tenant, submitted, workflow_id, workflow_version,
                              reference, year, number, status, status_at, assignee, follow_up,
                              applicant, terms)
        SELECT s.id, s.tenant, s.submitted, s.workflow_id, s.record->>'workflow_version',
               s.reference, s.year, s.number, NEW.current, NEW.changed,
               coalesce(NEW.record->>'assignee', ''), (NEW.record->>'follow_up')::date,
               s.record->>'applicant',
               to_tsvector('simple', coalesce(s.record->>'search_terms', ''))
        FROM submissions s WHERE s.id = NEW.submission;
    ELSE
        UPDATE postkorb SET status = NEW.current, status_at = NEW.changed,
               assignee = coalesce(NEW.record->>'assignee', ''),
               follow_up = (NEW.record->>'follow_up')::date
        WHERE submission = NEW.submission
          AND (status, status_at, assignee, follow_up)
              IS DISTINCT FROM (NEW.current, NEW.changed,
                                coalesce(NEW.record->>'assignee', ''),
                                (NEW.record->>'follow_up')::date);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER postkorb_from_status
    AFTER INSERT OR UPDATE ON submission_status
    FOR EACH ROW EXECUTE FUNCTION postkorb_from_status();

-- The counters: -1 for the row as it was, +1 for the row as it is. Two counter rows are
-- touched in key order, so concurrent changes of one tenant cannot deadlock on them.
CREATE FUNCTION postkorb_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_key text[];
    new_key text[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_key := ARRAY[OLD.tenant, OLD.status, OLD.workflow_id, OLD.assignee];
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        new_key := ARRAY[NEW.tenant, NEW.status, NEW.workflow_id, NEW.assignee];
    END IF;
    IF old_key IS NOT DISTINCT FROM new_key THEN
        RETURN NULL;
    END IF;
    IF new_key IS NOT NULL AND (old_key IS NULL OR new_key < old_key) THEN
        INSERT INTO postkorb_counts VALUES (new_key[1], new_key[2], new_key[3], new_key[4], 1)
            ON CONFLICT (tenant, status, workflow_id, assignee)
            DO UPDATE SET n = postkorb_counts.n + 1;
        new_key := NULL;
    END IF;
    IF old_key IS NOT NULL THEN
        UPDATE postkorb_counts SET n = n - 1
            WHERE (tenant, status, workflow_id, assignee)
                = (old_key[1], old_key[2], old_key[3], old_key[4]);
    END IF;
    IF new_key IS NOT NULL THEN
        INSERT INTO postkorb_counts VALUES (new_key[1], new_key[2], new_key[3], new_key[4], 1)
            ON CONFLICT (tenant, status, workflow_id, assignee)
            DO UPDATE SET n = postkorb_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER postkorb_count
    AFTER INSERT OR UPDATE OR DELETE ON postkorb
    FOR EACH ROW EXECUTE FUNCTION postkorb_count();

-- Existing submissions get their rows (the triggers count them).
INSERT INTO postkorb (submission, tenant, submitted, workflow_id, workflow_version, reference,
                      year, number, status, status_at, assignee, follow_up, applicant, terms)
SELECT s.id, s.tenant, s.submitted, s.workflow_id, s.record->>'workflow_version', s.reference,
       s.year, s.number, st.current, st.changed, coalesce(st.record->>'assignee', ''),
       (st.record->>'follow_up')::date, s.record->>'applicant',
       to_tsvector('simple', coalesce(s.record->>'search_terms', ''))
FROM submissions s JOIN submission_status st ON st.submission = s.id;

-- The office's internal notes: never shown to the citizen.
CREATE TABLE notes (
    seq        bigint PRIMARY KEY,
    submission bytea NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    v          integer NOT NULL,
    record     jsonb NOT NULL
);
CREATE INDEX notes_submission ON notes (submission, seq);
