-- Legal holds: a case (a tip and everything about it) that retention must not touch while the hold
-- stands. Written by the owner only (`lantern retention hold`, `lift`); every service's role reads it,
-- since each service's retention job skips what is held. A row is never deleted: lifting a hold
-- records who and why next to who placed it and why. Reasons are codes and a reference is a docket
-- or order number, never free text, which could name someone.
CREATE TABLE legal_holds (
    hold_id           uuid        PRIMARY KEY,
    tip_id            uuid        NOT NULL,
    reason            text        NOT NULL CHECK (reason IN (
                          'court_order', 'litigation', 'law_enforcement_request', 'privacy_complaint',
                          'access_request')),
    reference         text        CHECK (reference ~ '^[A-Za-z0-9][A-Za-z0-9 ./:#-]{0,63}$'),
    placed_at         timestamptz NOT NULL DEFAULT now(),
    placed_by_person  uuid,
    placed_by_token   uuid        NOT NULL,
    lifted_at         timestamptz,
    lifted_by_person  uuid,
    lifted_by_token   uuid,
    lift_reason       text        CHECK (lift_reason IN (
                          'proceedings_ended', 'order_lifted', 'request_withdrawn', 'entered_in_error')),
    CHECK ((lifted_at IS NULL) = (lifted_by_token IS NULL)),
    CHECK ((lifted_at IS NULL) = (lift_reason IS NULL))
);
CREATE UNIQUE INDEX legal_holds_one_standing ON legal_holds (tip_id) WHERE lifted_at IS NULL;

CREATE FUNCTION is_held(tip uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM retention.legal_holds WHERE tip_id = tip AND lifted_at IS NULL)
$$;

-- Inbox and outbox rows name their tip by the record key, as text.
CREATE FUNCTION is_held_key(tip_key text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT tip_key ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
        AND retention.is_held(tip_key::uuid)
$$;
