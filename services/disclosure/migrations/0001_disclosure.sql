CREATE TABLE disclosure_decisions (
    tip_id           uuid        PRIMARY KEY,
    decision         text        NOT NULL CHECK (decision IN ('forward', 'hold_for_review', 'do_not_forward')),
    basis            text        NOT NULL CHECK (basis IN ('consent', 'child_protection', 'imminent_danger', 'legal_obligation', 'none')),
    policy_version   text        NOT NULL,
    urgency          text        NOT NULL,
    source_event_id  uuid        NOT NULL,
    decided_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((decision = 'forward') = (basis <> 'none'))
);
