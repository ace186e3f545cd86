-- The referral directory, modelled on Open Referral HSDS 3 with a Canadian profile, and the
-- referral lifecycle. The walking skeleton's flat providers table gives way to it; the sample
-- directory is imported with `lantern directory import` (`lantern up` imports it when empty).

DROP TABLE referral_proposals;
DROP TABLE referral_matches;
DROP TABLE providers;

CREATE TABLE organizations (
    id              text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
    name            text        NOT NULL,
    description     text,
    website         text,
    email           text,
    public_listing  boolean     NOT NULL DEFAULT true,
    sample          boolean     NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE locations (
    id              text        PRIMARY KEY,
    organization_id text        NOT NULL REFERENCES organizations (id),
    name            text        NOT NULL,
    city            text        NOT NULL,
    province        text        NOT NULL,
    latitude        double precision,
    longitude       double precision,
    public_address  text
);

-- Kept apart so that no query that lists providers can reach it by accident.
CREATE TABLE confidential_addresses (
    location_id     text        PRIMARY KEY REFERENCES locations (id),
    address         text        NOT NULL
);

CREATE TABLE services (
    id                      text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
    organization_id         text        NOT NULL REFERENCES organizations (id),
    name                    text        NOT NULL,
    description             text,
    status                  text        NOT NULL CHECK (status IN ('active', 'inactive')),
    service_types           text[]      NOT NULL,
    languages               text[]      NOT NULL,   -- ISO 639-1 or 639-3
    interpretation          boolean     NOT NULL,
    minimum_age             integer,
    maximum_age             integer,
    genders                 text[]      NOT NULL,   -- empty: everyone
    populations_only        text[]      NOT NULL,
    population_focus        text[]      NOT NULL,
    trafficking_specialised boolean     NOT NULL,
    phone                   text,
    last_verified_on        date        NOT NULL,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE service_at_location (
    service_id  text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id text NOT NULL REFERENCES locations (id),
    PRIMARY KEY (service_id, location_id)
);

CREATE TABLE service_areas (
    service_id  text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    scope       text NOT NULL CHECK (scope IN ('city', 'province', 'national')),
    province    text,
    city        text
);
CREATE INDEX service_areas_by_service ON service_areas (service_id);

CREATE TABLE schedules (
    service_id  text    PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    open_24_7   boolean NOT NULL
);

CREATE TABLE service_capacity (
    service_id  text        PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    available   integer     NOT NULL,
    maximum     integer,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Bumped by every import, so that each referral process reloads its in-memory directory.
CREATE TABLE directory_state (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    version     bigint      NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO directory_state (version) VALUES (0);

CREATE TABLE consents (
    tip_id      uuid    PRIMARY KEY,
    version     integer NOT NULL,
    service_referral boolean NOT NULL
);

CREATE TABLE referral_matches (
    tip_id           uuid        PRIMARY KEY,
    correlation_id   uuid        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('proposed', 'no_match', 'not_consented', 'outside_canada')),
    triage_revision  integer     NOT NULL,
    source_event_id  uuid        NOT NULL,
    matched_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE referrals (
    referral_id     uuid        PRIMARY KEY,
    tip_id          uuid        NOT NULL REFERENCES referral_matches (tip_id),
    provider_id     text        NOT NULL REFERENCES services (id),
    rank            integer     NOT NULL,
    score           double precision NOT NULL,
    status          text        NOT NULL CHECK (status IN ('proposed', 'accepted', 'declined', 'completed', 'revoked')),
    reason          text,
    warm_transfer   boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tip_id, provider_id)
);
CREATE INDEX referrals_by_tip ON referrals (tip_id);

-- Who moved each referral, when: append-only.
CREATE TABLE referral_history (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id     uuid        NOT NULL REFERENCES referrals (referral_id),
    from_status     text        NOT NULL,
    to_status       text        NOT NULL,
    reason          text,
    staff_token_id  uuid,
    staff_role      text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'referral history is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER referral_history_append_only BEFORE UPDATE OR DELETE ON referral_history
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
