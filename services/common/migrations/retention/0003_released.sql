-- Whether a tip's append-only rows may go: its key was shredded and no legal hold stands on it. The
-- triggers of the append-only tables ask this, so that a service role cannot delete a held tip's
-- audit rows even by going around its retention job (which checks the hold too). Run with its
-- owner's rights: it reveals the answer and nothing of the key's row or the hold.
CREATE FUNCTION released(tip uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM keys.data_keys WHERE tip_id = tip AND shredded_at IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM retention.legal_holds WHERE tip_id = tip AND lifted_at IS NULL)
$$;
