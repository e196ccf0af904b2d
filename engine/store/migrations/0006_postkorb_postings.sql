-- Format 6 of the PostgreSQL store: the Postkorb's search reads postings in list order. One
-- row per submission and search term in `postkorb_postings`, in a B-tree by tenant, term and
-- newest first, so that the words of a search are intersected by merging ordered index scans
-- that stop after the page and a capped count (two common words no longer intersect two
-- whole GIN posting lists). The terms are the lexemes of `postkorb.terms`, so the rows come
-- and go with the `postkorb` row, kept by a trigger in the same transaction. The GIN index
-- is dropped: a search of a word that begins very many terms checks `terms` row by row.

CREATE TABLE postkorb_postings (
    tenant     text NOT NULL,
    -- Byte order, so that the words a typed prefix begins lie side by side in the index.
    term       text COLLATE "C" NOT NULL,
    submitted  timestamptz NOT NULL,
    submission bytea NOT NULL
);

CREATE UNIQUE INDEX postkorb_postings_order
    ON postkorb_postings (tenant, term, submitted DESC, submission DESC);

CREATE FUNCTION postkorb_postings_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM postkorb_postings
        WHERE tenant = OLD.tenant AND term = ANY (tsvector_to_array(OLD.terms))
          AND submitted = OLD.submitted AND submission = OLD.submission;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO postkorb_postings (tenant, term, submitted, submission)
        SELECT NEW.tenant, t, NEW.submitted, NEW.submission
        FROM unnest(tsvector_to_array(NEW.terms)) t
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

-- Status and case changes update other columns: the postings stay.
CREATE TRIGGER postkorb_postings_write
    AFTER INSERT OR DELETE OR UPDATE OF tenant, submitted, submission, terms ON postkorb
    FOR EACH ROW EXECUTE FUNCTION postkorb_postings_write();

-- Existing submissions get their postings.
INSERT INTO postkorb_postings (tenant, term, submitted, submission)
SELECT p.tenant, t, p.submitted, p.submission
FROM postkorb p, unnest(tsvector_to_array(p.terms)) t;

DROP INDEX postkorb_terms;

-- The planner picks the order of the words' scans by their frequencies.
ANALYZE postkorb_postings;
