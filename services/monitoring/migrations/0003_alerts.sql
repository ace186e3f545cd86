-- Alerts on at-risk and breached deadlines, and their pages. An alert holds codes only: a reference,
-- its kind, the step or queue, the deadline and the roster handles paged; never a name or contact.
CREATE TABLE alerts (
    alert_id   uuid        PRIMARY KEY,
    kind       text        NOT NULL,
    reference  text        NOT NULL,
    subject    text        NOT NULL,
    deadline   timestamptz NOT NULL,
    role       text        NOT NULL,
    paged      text[]      NOT NULL,
    raised_at  timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz
);
CREATE INDEX open_alerts ON alerts (deadline) WHERE closed_at IS NULL;

-- What each alert is about, to close it when its step is done or its case reviewed; never shown.
CREATE TABLE alert_sources (
    alert_id uuid PRIMARY KEY,
    tip_id   uuid NOT NULL,
    plan_id  uuid
);
CREATE INDEX alert_sources_by_plan ON alert_sources (plan_id) WHERE plan_id IS NOT NULL;
CREATE INDEX alert_sources_by_tip ON alert_sources (tip_id);

-- The paging outbox: one page per alert, written in the transaction that raised it and sent after
-- commit. A page that failed stays here ('failed', with its attempts and last error) and is tried
-- again while its alert is open; a page whose alert closed first is 'cancelled'.
CREATE TABLE deliveries (
    alert_id        uuid        PRIMARY KEY,
    body            bytea       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        integer     NOT NULL DEFAULT 0,
    rounds          integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_error      text,
    delivered_at    timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
