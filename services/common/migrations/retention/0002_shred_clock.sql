-- When a tip's data key was shredded (its identifying data expired, or an admin shred it), or NULL:
-- the clock of the casework and access records that go after it. Every service's retention job
-- reads it; only the services that unseal may read keys.data_keys, so this function, run with its
-- owner's rights, gives the others the time and nothing else of the key's row.
CREATE FUNCTION shredded_at(tip uuid) RETURNS timestamptz LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
    SELECT shredded_at FROM keys.data_keys WHERE tip_id = tip
$$;
