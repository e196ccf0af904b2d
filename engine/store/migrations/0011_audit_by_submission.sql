-- The audit entries of one submission, found by an index instead of reading the whole log
-- (the citizen's status page shows who of the office read the application).
CREATE INDEX audit_by_submission ON audit ((record->>'submission'), seq)
    WHERE record ? 'submission';
