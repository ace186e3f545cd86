-- A held event keeps the headers it came with (its signature above all): if it later fails, it is
-- dead-lettered with them, so that `lantern dlt replay` publishes an event its consumer still
-- verifies. Only the headers Lantern writes are kept (`consumer.KEPT_HEADERS`), never a value that
-- could identify anyone; they are dropped with the payload once the event is done or set aside.
ALTER TABLE inbox ADD COLUMN headers jsonb;
