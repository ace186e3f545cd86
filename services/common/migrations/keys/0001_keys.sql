-- Data keys of sealed tips, wrapped by the key-encryption key, and the audit of every unseal.
-- Shredding a tip deletes its wrapped key; the row stays to say the tip was erased, and when.
CREATE TABLE data_keys (
    tip_id       uuid        PRIMARY KEY,
    kek_id       text        NOT NULL,
    wrapped_key  bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    shredded_at  timestamptz,
    CHECK ((wrapped_key IS NULL) = (shredded_at IS NOT NULL))
);

CREATE TABLE unseal_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    tip_id      uuid        NOT NULL,
    service     text        NOT NULL,
    purpose     text        NOT NULL,
    fields      text[]      NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('unsealed', 'erased'))
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the unseal audit is append-only';
END;
$$;

CREATE TRIGGER unseal_audit_append_only BEFORE UPDATE OR DELETE ON unseal_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
