-- Who works a tip, and every time staff opened its identifying data. A specialist reads and opens
-- only the tips they hold (or, to read facts before taking one, an unassigned tip); supervisors all.
CREATE TABLE assignments (
    tip_id        uuid        PRIMARY KEY REFERENCES tips (tip_id),
    person_id     uuid        NOT NULL,
    assigned_by   uuid        NOT NULL,
    assigned_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignments_by_person ON assignments (person_id);

-- Append-only history: takes, assignments and releases. A handover note may name someone, so it is
-- sealed under the tip's key like the narrative.
CREATE TABLE assignment_history (
    entry_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tip_id        uuid        NOT NULL REFERENCES tips (tip_id),
    action        text        NOT NULL CHECK (action IN ('taken', 'assigned', 'released', 'handed_over')),
    person_id     uuid,
    by_person     uuid        NOT NULL,
    by_role       text        NOT NULL,
    sealed_note   text,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignment_history_by_tip ON assignment_history (tip_id, entry_id);

-- Each opening of a tip's identifying data by a person, with the purpose they stated. The unseal
-- itself is also in keys.unseal_audit, in the same transaction.
CREATE TABLE openings (
    opening_id    uuid        PRIMARY KEY,
    tip_id        uuid        NOT NULL REFERENCES tips (tip_id),
    person_id     uuid        NOT NULL,
    role          text        NOT NULL,
    token_id      uuid        NOT NULL,
    purpose       text        NOT NULL,
    fields        text[]      NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('unsealed', 'erased')),
    opened_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX openings_by_tip ON openings (tip_id, opened_at);

CREATE FUNCTION refuse_casework_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER assignment_history_append_only BEFORE UPDATE OR DELETE ON assignment_history
    FOR EACH ROW EXECUTE FUNCTION refuse_casework_change();
CREATE TRIGGER openings_append_only BEFORE UPDATE OR DELETE ON openings
    FOR EACH ROW EXECUTE FUNCTION refuse_casework_change();
