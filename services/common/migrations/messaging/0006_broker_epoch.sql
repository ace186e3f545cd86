-- The broker the relay last published to, by its cluster id. A different id means a broker that
-- holds none of what was published before (a memory-only broker started again, a cluster rebuilt
-- empty): the relay then publishes again what consumers may still need (services/common/epoch.py).
CREATE TABLE broker_epoch (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    cluster_id text        NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now()
);
