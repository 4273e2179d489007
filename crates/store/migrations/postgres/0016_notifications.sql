-- Notifications: the in-app inbox, and the outside channels (e-mail, WeCom
-- and DingTalk group robots, plain webhooks) with their subscriptions,
-- deliveries, the log of every attempt and the items waiting for a digest.
-- Every row that makes a message carries a unique dedupe_key written in the
-- transaction that causes it, so a second run or a second server adds none.
-- Keep in step with ../sqlite/0016_notifications.sql (a test compares them).

CREATE TABLE notification (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES app_user (id),
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    level TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    warning_id UUID REFERENCES warning (id),
    circular_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    read_at TIMESTAMPTZ
);
CREATE INDEX notification_user ON notification (user_id, created_at);
CREATE INDEX notification_unread ON notification (user_id, created_at) WHERE read_at IS NULL;

CREATE TABLE channel (
    id UUID PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    user_id UUID REFERENCES app_user (id),
    unit_id UUID REFERENCES unit (id),
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    secret TEXT,
    msg_format TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    quiet_hours BOOLEAN NOT NULL,
    next_send_at TIMESTAMPTZ NOT NULL,
    failing_since TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (unit_id IS NULL))
);
CREATE INDEX channel_unit ON channel (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX channel_user ON channel (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE subscription (
    channel_id UUID NOT NULL REFERENCES channel (id),
    rule_code TEXT NOT NULL,
    min_level TEXT NOT NULL,
    immediate_level TEXT,
    PRIMARY KEY (channel_id, rule_code)
);

CREATE TABLE delivery (
    id UUID PRIMARY KEY NOT NULL,
    channel_id UUID NOT NULL REFERENCES channel (id),
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    warning_event_id UUID REFERENCES warning_event (id),
    circular_id UUID,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by TEXT,
    claim_until TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    last_http_status BIGINT,
    last_response TEXT,
    last_error TEXT
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status IN ('pending', 'retry');
CREATE INDEX delivery_claimed ON delivery (claim_until) WHERE status = 'sending';
CREATE INDEX delivery_channel ON delivery (channel_id, created_at);

-- The delivery log: one row per attempt, never updated.
CREATE TABLE delivery_attempt (
    delivery_id UUID NOT NULL REFERENCES delivery (id),
    attempt BIGINT NOT NULL,
    node TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    elapsed_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    http_status BIGINT,
    response TEXT,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE digest_item (
    channel_id UUID NOT NULL REFERENCES channel (id),
    warning_event_id UUID NOT NULL REFERENCES warning_event (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel_id, warning_event_id)
);
