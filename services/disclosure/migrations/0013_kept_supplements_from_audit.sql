-- Migration 0012 started cases.kept_supplements empty: a follow-up a supervisor kept back before it
-- would go out with a first package issued again or sent to a jurisdiction the case moved to. The
-- audit's 'kept' entries name what each keeping held back (detail.supplements_not_forwarded): fill the
-- column from them, keeping what is there already. The audit is only read. What an agency was owed
-- before 0012 (packages.owed_follow_ups) was never recorded and cannot be rebuilt (operations.md).
UPDATE cases c
SET kept_supplements = ARRAY(SELECT DISTINCT unnest(c.kept_supplements || k.ids))
FROM (
    SELECT kept.tip_id, array_agg(DISTINCT supplement.id::uuid) AS ids
    FROM (
        SELECT tip_id, detail -> 'supplements_not_forwarded' AS ids
        FROM audit_log
        WHERE action = 'kept' AND jsonb_typeof(detail -> 'supplements_not_forwarded') = 'array'
    ) kept
    CROSS JOIN LATERAL jsonb_array_elements_text(kept.ids) AS supplement (id)
    GROUP BY kept.tip_id
) k
WHERE c.tip_id = k.tip_id;
