-- The review queue a case waits in (policy v2: expedited 15 min, standard 24 h), so the console can
-- show each queue on its own: an expedited case must never hide behind a long standard queue.
ALTER TABLE reviews ADD COLUMN queue text CHECK (queue IN ('expedited', 'standard'));
