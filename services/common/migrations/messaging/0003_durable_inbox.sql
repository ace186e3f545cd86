-- The inbox keeps, besides the ids of events already applied, the events that wait: a deferred
-- event (what it depends on has not arrived), the events of a tip behind a poisoned one (so they
-- never overtake it), and the poisoned event itself until it is replayed or set aside.
ALTER TABLE inbox ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE inbox ADD COLUMN tip_key text;
ALTER TABLE inbox ADD COLUMN status text NOT NULL DEFAULT 'done'
    CHECK (status IN ('done', 'deferred', 'waiting', 'poisoned', 'set_aside'));
ALTER TABLE inbox ADD COLUMN topic text;
ALTER TABLE inbox ADD COLUMN payload bytea;
ALTER TABLE inbox ADD COLUMN reason text;
ALTER TABLE inbox ADD COLUMN held_since timestamptz;

CREATE INDEX inbox_held ON inbox (consumer, tip_key, seq) WHERE status IN ('deferred', 'waiting', 'poisoned');
