-- Messages that leave Lantern in clear (packages to agencies) are emptied once the broker has
-- them, so that no opened identifying data stays behind in the outbox.
ALTER TABLE outbox ADD COLUMN scrub_after_send boolean NOT NULL DEFAULT false;
