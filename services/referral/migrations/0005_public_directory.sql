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
