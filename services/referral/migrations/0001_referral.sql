-- A small provider directory for the walking skeleton. SAMPLE DATA: the names are Ottawa partners
-- listed by the Ottawa Police Service (seed 004) and clearly fictional samples elsewhere; the
-- services and languages are illustrative, not verified.
CREATE TABLE providers (
    provider_id     text        PRIMARY KEY CHECK (provider_id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
    name            text        NOT NULL,
    areas           text[]      NOT NULL,
    services        text[]      NOT NULL,
    languages       text[]      NOT NULL,
    public_listing  boolean     NOT NULL DEFAULT true,
    active          boolean     NOT NULL DEFAULT true,
    sample          boolean     NOT NULL DEFAULT false
);

CREATE TABLE referral_matches (
    tip_id           uuid        PRIMARY KEY,
    status           text        NOT NULL CHECK (status IN ('proposed', 'no_match', 'not_consented', 'outside_canada')),
    source_event_id  uuid        NOT NULL,
    matched_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE referral_proposals (
    tip_id       uuid    NOT NULL REFERENCES referral_matches (tip_id),
    provider_id  text    NOT NULL REFERENCES providers (provider_id),
    rank         integer NOT NULL,
    status       text    NOT NULL DEFAULT 'proposed',
    PRIMARY KEY (tip_id, provider_id)
);

INSERT INTO providers (provider_id, name, areas, services, languages, public_listing, sample) VALUES
('canadian-ht-hotline', 'Canadian Human Trafficking Hotline', '{CA}', '{crisis_support,victim_services}', '{en,fr}', true, true),
('a-new-day-ottawa', 'A New Day', '{ON}', '{victim_services,mental_health}', '{en}', true, true),
('corath-ottawa', 'CORATH', '{ON}', '{victim_services}', '{en,fr}', true, true),
('minwaashin-lodge', 'Minwaashin Lodge', '{ON}', '{emergency_shelter,culturally_specific,victim_services}', '{en,oj}', false, true),
('onwa-trauma-informed-care', 'ONWA Trauma Informed Care Program', '{ON}', '{culturally_specific,mental_health}', '{en,oj,cr}', true, true),
('victim-witness-assistance-on', 'Victim Witness Assistance Program', '{ON}', '{legal,victim_services}', '{en,fr}', true, true),
('deborahs-gate', 'Deborah''s Gate', '{ON}', '{emergency_shelter,transitional_housing}', '{en}', false, true),
('victim-services-ottawa', 'Victim Services Ottawa', '{ON}', '{crisis_support,victim_services}', '{en,fr}', true, true),
('immigrant-women-services-ottawa', 'Immigrant Women Services Ottawa', '{ON}', '{immigration,victim_services}', '{en,fr,ar,es}', true, true),
('tunasuvvingat-inuit', 'Tunasuvvingat Inuit', '{ON}', '{culturally_specific,victim_services}', '{en,iu}', true, true),
('sample-refuge-montreal', 'Exemple : Refuge Montréal (données d''exemple)', '{QC}', '{emergency_shelter,victim_services}', '{fr,en}', true, true),
('sample-survivor-support-bc', 'Sample: Survivor Support BC (sample data)', '{BC}', '{transitional_housing,legal}', '{en}', true, true),
('sample-prairie-safe-house', 'Sample: Prairie Safe House (sample data)', '{AB,SK,MB}', '{emergency_shelter}', '{en,fr}', true, true);
