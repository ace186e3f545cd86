-- The directory as Open Referral HSDS 3.0 (docs/hsds-profile.md): every record of every HSDS table
-- kept as published, field names and all, keyed by its table and id. Addresses are kept apart so
-- that no listing query can reach one by accident, and a partnership specialist's confirmations of
-- what may be public are kept apart from the files, which a re-import replaces.
--
-- The walking skeleton's look-alike tables go; their content came from files, which
-- `lantern directory import` reads again (`lantern up` imports the sample directory when empty).

ALTER TABLE referrals DROP CONSTRAINT IF EXISTS referrals_provider_id_fkey;
DROP TABLE service_capacity, schedules, service_areas, service_at_location, services,
    confidential_addresses, locations, organizations;

CREATE TABLE hsds_records (
    resource    text        NOT NULL CHECK (resource IN (
        'organization', 'program', 'service', 'attribute', 'service_at_location', 'location', 'phone',
        'contact', 'schedule', 'funding', 'service_area', 'required_document', 'language',
        'accessibility', 'taxonomy_term', 'metadata', 'meta_table_description', 'cost_option',
        'organization_identifier', 'taxonomy')),
    id          text        NOT NULL,
    record      jsonb       NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record ->> 'id' = id),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resource, id)
);

CREATE TABLE hsds_addresses (
    id          text        PRIMARY KEY,
    location_id text,
    record      jsonb       NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record ->> 'id' = id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- resource 'organization': may it be listed in public; 'location': may its address be public.
CREATE TABLE directory_confirmations (
    resource     text        NOT NULL CHECK (resource IN ('organization', 'location')),
    id           text        NOT NULL,
    public       boolean     NOT NULL,
    confirmed_by text        NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resource, id)
);
