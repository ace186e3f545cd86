-- Policy v2 (issue 13): review queues with their due times and flags, grounds by who established
-- them, approvals by person on a structured legal reference, every consent record kept, follow-ups
-- that wait for a supervisor, and where a moved case went.

ALTER TABLE cases
    ADD COLUMN recorded_by          uuid,
    ADD COLUMN possibilities        text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN recorded_grounds     text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN confirmed_grounds    text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN consent_confirmed    integer[]   NOT NULL DEFAULT '{}',
    ADD COLUMN queue                text        CHECK (queue IN ('expedited', 'standard')),
    ADD COLUMN queued_at            timestamptz,
    ADD COLUMN review_reasons       text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN review_flags         text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN reopened_at          timestamptz,
    ADD COLUMN pending_supplements  uuid[]      NOT NULL DEFAULT '{}',
    ADD CONSTRAINT queued_with_a_due_time CHECK (queue IS NULL OR (queued_at IS NOT NULL AND review_due_at IS NOT NULL));
-- A v1 legal reference was free text: kept whole as the statute, to be completed on its next approval.
ALTER TABLE cases ALTER COLUMN legal_reference TYPE jsonb USING
    CASE WHEN legal_reference IS NULL THEN NULL
         ELSE jsonb_build_object('statute', legal_reference, 'section', 'unknown', 'docket', 'unknown') END;
-- Cases v1 left waiting for a supervisor wait in a queue (urgent ones expedited), due as they were.
UPDATE cases SET queue = CASE WHEN urgency = 'urgent' THEN 'expedited' ELSE 'standard' END, queued_at = received_at
 WHERE reviewed_at IS NULL AND state IN ('pending_review', 'forwarded') AND review_due_at IS NOT NULL;
DROP INDEX cases_review_queue;
CREATE INDEX cases_review_queue ON cases (review_due_at) WHERE queue IS NOT NULL;

-- Verdicts by person; a person may act again after the case is reopened, so the time is in the key.
-- v1 kept only token ids, and one person may hold several tokens: a v1 approval cannot be proved to
-- be another person's, so a case still waiting starts its approvals again (reopened_at below).
ALTER TABLE approvals ADD COLUMN person_id uuid;
UPDATE approvals SET person_id = staff_token_id;
UPDATE cases SET reopened_at = now() WHERE state IN ('pending_review', 'not_forwarded')
   AND EXISTS (SELECT 1 FROM approvals a WHERE a.tip_id = cases.tip_id AND a.verdict = 'approve');
ALTER TABLE approvals
    ALTER COLUMN person_id SET NOT NULL,
    ADD COLUMN ground text,
    DROP CONSTRAINT approvals_pkey,
    DROP CONSTRAINT approvals_verdict_check,
    ADD CONSTRAINT approvals_verdict_check CHECK (verdict IN (
        'approve', 'decline', 'review_after_forward', 'reopen', 'keep', 'forward_changes', 'confirm_consent')),
    ADD PRIMARY KEY (tip_id, person_id, verdict, at);
ALTER TABLE approvals ALTER COLUMN legal_reference TYPE jsonb USING
    CASE WHEN legal_reference IS NULL THEN NULL
         ELSE jsonb_build_object('statute', legal_reference, 'section', 'unknown', 'docket', 'unknown') END;

ALTER TABLE packages ADD COLUMN moved_to jsonb;

-- Who recorded a tip (a specialist on a call), the actor of a forward at once, and the tip's own
-- facts as intake received them: what a call recorded, before any follow-up.
ALTER TABLE tip_sources ADD COLUMN recorded_by uuid, ADD COLUMN facts jsonb;

-- Every consent record, whatever its version: a withdrawal applies out of order, a gap is seen.
CREATE TABLE consent_records (
    tip_id            uuid        NOT NULL,
    event_id          uuid        NOT NULL,
    version           integer     NOT NULL,
    consent           jsonb       NOT NULL,
    recorded_by_role  text        NOT NULL,
    recorded_at       timestamptz NOT NULL,
    PRIMARY KEY (tip_id, event_id)
);
-- The v1 table kept only the highest version, whoever recorded it: it comes over as 'migrated', a
-- role that may narrow but not widen, so a widening v1 let through waits for a supervisor; a
-- version after 1 without the ones before shows as a gap, held for review.
INSERT INTO consent_records (tip_id, event_id, version, consent, recorded_by_role, recorded_at)
SELECT tip_id, gen_random_uuid(), version, consent, 'migrated', recorded_at FROM consents;
DROP TABLE consents;
