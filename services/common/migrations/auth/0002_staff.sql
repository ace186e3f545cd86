-- Staff accounts: a token belongs to a person, who holds one or more roles and can be disabled.
-- A token opens nothing once it is revoked or expired, or once its person is disabled or no longer
-- holds the token's role; two tokens of one person are one person (for dual control, for audits).
CREATE TABLE staff (
    person_id     uuid        PRIMARY KEY,
    display_name  text        NOT NULL CHECK (btrim(display_name) <> ''),
    roles         text[]      NOT NULL CHECK (
        cardinality(roles) > 0 AND roles <@ ARRAY['specialist', 'supervisor', 'admin']::text[]
    ),
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK (active = (disabled_at IS NULL))
);

ALTER TABLE staff_tokens
    ADD COLUMN person_id  uuid REFERENCES staff (person_id),
    ADD COLUMN expires_at timestamptz;

-- Each token made before staff accounts becomes its own person, named by its label, with the
-- token's role; it expires 90 days from now, as a new token does.
CREATE TEMPORARY TABLE legacy_people ON COMMIT DROP AS
    SELECT token_id, gen_random_uuid() AS person_id,
           coalesce(nullif(btrim(label), ''), 'unnamed') AS display_name, role, created_at, revoked_at
    FROM staff_tokens;

INSERT INTO staff (person_id, display_name, roles, created_at)
    SELECT person_id, display_name, ARRAY[role], created_at FROM legacy_people;

UPDATE staff_tokens
    SET person_id = legacy_people.person_id,
        expires_at = CASE WHEN staff_tokens.revoked_at IS NULL THEN now() + interval '90 days' END
    FROM legacy_people
    WHERE staff_tokens.token_id = legacy_people.token_id;

ALTER TABLE staff_tokens ALTER COLUMN person_id SET NOT NULL;

CREATE INDEX staff_tokens_person ON staff_tokens (person_id);
