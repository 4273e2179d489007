-- Early warning (预警): rules as data, one warning per rule and subject with
-- its history and audience, the job leases that let several servers share one
-- database, and the statistics reports one rule checks.
-- Keep in step with ../sqlite/0015_warnings.sql (a test compares them).

CREATE TABLE warning_rule (
    code TEXT PRIMARY KEY NOT NULL,
    subject_kind TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    level TEXT NOT NULL,
    params_json TEXT NOT NULL,
    source_document TEXT NOT NULL,
    source_tag TEXT NOT NULL,
    -- The next run writes warnings but sends one summary instead of a
    -- message per warning (set on first seeding and when re-enabled).
    backfill BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- One row per scheduled job. A node holds the job while lease_until is in
-- the future; every batch renews it under the holder condition first (the
-- fence), so a node that lost the lease writes nothing.
CREATE TABLE job_lease (
    job TEXT PRIMARY KEY NOT NULL,
    holder TEXT,
    lease_until TIMESTAMPTZ,
    run_id UUID,
    run_key TEXT,
    cursor TEXT,
    done_key TEXT,
    failures BIGINT NOT NULL,
    retry_after TIMESTAMPTZ,
    last_error TEXT
);

CREATE TABLE job_run (
    id UUID PRIMARY KEY NOT NULL,
    job TEXT NOT NULL,
    run_key TEXT NOT NULL,
    trigger TEXT NOT NULL,
    holder TEXT NOT NULL,
    today DATE NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome TEXT NOT NULL,
    counts_json TEXT NOT NULL,
    error TEXT
);
CREATE INDEX job_run_job ON job_run (job, started_at);

CREATE TABLE warning (
    id UUID PRIMARY KEY NOT NULL,
    rule_code TEXT NOT NULL REFERENCES warning_rule (code),
    subject_kind TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    subject_id UUID NOT NULL,
    hazard_id UUID REFERENCES hazard (id),
    unit_id UUID NOT NULL REFERENCES unit (id),
    unit_path TEXT COLLATE "C" NOT NULL,
    label TEXT NOT NULL,
    facts_json TEXT NOT NULL,
    level TEXT NOT NULL,
    level_rank BIGINT NOT NULL,
    step BIGINT NOT NULL,
    state TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by UUID REFERENCES app_user (id),
    resolved_at TIMESTAMPTZ,
    resolution TEXT,
    rule_version BIGINT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (rule_code, subject_key)
);
CREATE INDEX warning_open_path ON warning (unit_path, level_rank, first_seen_at) WHERE state IN ('open', 'acknowledged');
CREATE INDEX warning_open_level ON warning (level_rank, first_seen_at, id) WHERE state IN ('open', 'acknowledged');
CREATE INDEX warning_open_rule ON warning (rule_code, id) WHERE state IN ('open', 'acknowledged');
CREATE INDEX warning_hazard ON warning (hazard_id) WHERE hazard_id IS NOT NULL;
CREATE INDEX warning_changed ON warning (unit_path, changed_at);

-- The history of a warning: one row per change, never updated.
CREATE TABLE warning_event (
    id UUID PRIMARY KEY NOT NULL,
    warning_id UUID NOT NULL REFERENCES warning (id),
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    from_level TEXT,
    to_level TEXT NOT NULL,
    from_step BIGINT,
    to_step BIGINT NOT NULL,
    run_id UUID REFERENCES job_run (id),
    actor_user_id UUID REFERENCES app_user (id),
    actor_name TEXT NOT NULL,
    comment TEXT,
    facts_json TEXT NOT NULL
);
CREATE INDEX warning_event_warning ON warning_event (warning_id, at);

-- Who a warning is addressed to, rung by rung; rows are only ever added.
CREATE TABLE warning_audience (
    warning_id UUID NOT NULL REFERENCES warning (id),
    unit_id UUID NOT NULL REFERENCES unit (id),
    role TEXT NOT NULL,
    rung TEXT NOT NULL,
    from_step BIGINT NOT NULL,
    PRIMARY KEY (warning_id, unit_id, role)
);
CREATE INDEX warning_audience_unit ON warning_audience (unit_id, warning_id);

-- 书面统计分析表 received (16号令 Art. 14; DOMAIN.md §1.6).
CREATE TABLE statistics_report (
    id UUID PRIMARY KEY NOT NULL,
    unit_id UUID NOT NULL REFERENCES unit (id),
    period TEXT NOT NULL,
    signed_by TEXT NOT NULL,
    attachment_id UUID REFERENCES attachment (id),
    note TEXT,
    submitted_at TIMESTAMPTZ NOT NULL,
    submitted_by_user_id UUID REFERENCES app_user (id),
    submitted_by TEXT NOT NULL,
    UNIQUE (unit_id, period)
);
CREATE INDEX statistics_report_submitted ON statistics_report (submitted_at);

-- The rule scans: pending hazards by deadline, and the few open major ones.
CREATE INDEX hazard_pending_due ON hazard (deadline, num) WHERE state IN ('reported', 'assigned', 'rectifying');
CREATE INDEX hazard_pending_major ON hazard (num) WHERE level = 'major' AND state IN ('reported', 'assigned', 'rectifying');
