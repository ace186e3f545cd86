-- The public directory as published (issue 16, item 2): what `hsds.public` keeps of the directory
-- (listed organizations, no confidential address), written by referral in the same transaction as
-- every change to the directory. The public deployment's role reads only this table, so nothing it
-- runs can reach a confidential address or an opted-out provider, whatever goes wrong in it.
CREATE TABLE public_directory (
    resource    text        NOT NULL,
    id          text        NOT NULL,
    record      jsonb       NOT NULL CHECK (jsonb_typeof(record) = 'object' AND record ->> 'id' = id),
    PRIMARY KEY (resource, id)
);

-- The directory version the published copy reflects: referral publishes again when they differ (a
-- database migrated to this version publishes at referral's next start).
ALTER TABLE directory_state ADD COLUMN published_version bigint NOT NULL DEFAULT -1;

-- A provider may ask to hide its address or to leave the public directory: that takes effect at once,
-- before any approval (referral applies it within seconds of the request, the public deployment's
-- role being unable to), and this says when it was applied.
ALTER TABLE provider_requests ADD COLUMN restrictions_applied_at timestamptz;
CREATE INDEX provider_requests_restrictions ON provider_requests (received_at)
    WHERE restrictions_applied_at IS NULL AND status = 'pending';
