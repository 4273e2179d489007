-- Closed-loop hazard management: the problem-and-hazard list, the measures
-- list, listed supervision, extension requests, the working-day calendar.
-- Keep in step with ../postgres/0002_hazards.sql (a test compares them).

-- One row per year: the holiday notice as published (JSON lists).
CREATE TABLE holiday_notice (
    year INTEGER PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    holidays_json TEXT NOT NULL,
    workdays_json TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Human-readable numbers (YH2021-000123, ZC2021-000045). Every write already
-- serialises on audit_head, so a counter row costs no extra contention.
CREATE TABLE number_counter (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

CREATE TABLE hazard (
    id BLOB PRIMARY KEY NOT NULL,
    num BIGINT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    campaign_id BLOB REFERENCES campaign (id),
    area_id BLOB REFERENCES area (id),
    unit_id BLOB NOT NULL REFERENCES unit (id),
    unit_path TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    location TEXT,
    hazard_type TEXT NOT NULL,
    source TEXT NOT NULL,
    check_kind TEXT NOT NULL,
    level TEXT NOT NULL,
    sub_grade TEXT,
    manage_type TEXT NOT NULL,
    cause TEXT,
    cause_class TEXT,
    measures TEXT,
    funds TEXT,
    contingency TEXT,
    responsible_unit_id BLOB REFERENCES unit (id),
    responsible_person TEXT,
    responsible_phone TEXT,
    deadline TEXT,
    deadline_rule TEXT,
    found_at TEXT NOT NULL,
    found_by TEXT NOT NULL,
    found_by_user_id BLOB REFERENCES app_user (id),
    found_by_unit_id BLOB NOT NULL REFERENCES unit (id),
    assigned_by_unit_id BLOB REFERENCES unit (id),
    accepting_unit_id BLOB REFERENCES unit (id),
    state TEXT NOT NULL,
    major_report_json TEXT,
    plan_json TEXT,
    rectification TEXT,
    submitted_at TEXT,
    accepted_by TEXT,
    closed_at TEXT,
    acceptance_comment TEXT,
    dismiss_reason TEXT,
    duplicate_of BLOB REFERENCES hazard (id),
    listed BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
-- Lists scoped to a subtree, newest first (the path is compared as a range).
CREATE INDEX hazard_unit_path ON hazard (unit_path, num);
CREATE INDEX hazard_unit ON hazard (unit_id, num);
CREATE INDEX hazard_state ON hazard (state, num);
CREATE INDEX hazard_area ON hazard (area_id, num);
CREATE INDEX hazard_found_at ON hazard (found_at);
CREATE INDEX hazard_responsible ON hazard (responsible_unit_id, state);
CREATE INDEX hazard_found_by_unit ON hazard (found_by_unit_id, num);
-- Overdue is derived from the deadline when read: only open hazards matter.
CREATE INDEX hazard_open_deadline ON hazard (deadline, unit_path) WHERE state IN ('reported', 'assigned', 'rectifying');
CREATE INDEX hazard_listed ON hazard (num) WHERE listed;

-- Chinese substring search: the text is indexed as overlapping character
-- pairs (see bihuan_domain::text::search_tokens), keyed by hazard.num.
CREATE VIRTUAL TABLE hazard_search USING fts5 (tokens, content = '', contentless_delete = 1, tokenize = 'ascii');

-- The timeline: one row per change, never updated.
CREATE TABLE hazard_event (
    id BLOB PRIMARY KEY NOT NULL,
    hazard_id BLOB NOT NULL REFERENCES hazard (id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor_user_id BLOB REFERENCES app_user (id),
    actor_name TEXT NOT NULL,
    actor_unit_id BLOB REFERENCES unit (id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    comment TEXT,
    data_json TEXT NOT NULL,
    UNIQUE (hazard_id, seq)
);
CREATE INDEX hazard_event_at ON hazard_event (at);

-- 挂牌督办: every listing, current (lifted_on IS NULL) and past.
CREATE TABLE hazard_listing (
    id BLOB PRIMARY KEY NOT NULL,
    hazard_id BLOB NOT NULL REFERENCES hazard (id),
    level TEXT NOT NULL,
    supervising_unit_id BLOB NOT NULL REFERENCES unit (id),
    document_number TEXT NOT NULL,
    listed_on TEXT NOT NULL,
    required_by TEXT NOT NULL,
    signatory TEXT NOT NULL,
    requirements TEXT,
    lifted_on TEXT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX hazard_listing_current ON hazard_listing (hazard_id) WHERE lifted_on IS NULL;
CREATE INDEX hazard_listing_hazard ON hazard_listing (hazard_id, listed_on);

-- 延期申请 and their decisions.
CREATE TABLE hazard_extension (
    id BLOB PRIMARY KEY NOT NULL,
    hazard_id BLOB NOT NULL REFERENCES hazard (id),
    current_deadline TEXT NOT NULL,
    requested_deadline TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_by_user_id BLOB REFERENCES app_user (id),
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_comment TEXT
);
CREATE UNIQUE INDEX hazard_extension_pending ON hazard_extension (hazard_id) WHERE status = 'pending';
CREATE INDEX hazard_extension_hazard ON hazard_extension (hazard_id, requested_at);

-- 制度措施清单: institutional measures per unit and area.
CREATE TABLE measure (
    id BLOB PRIMARY KEY NOT NULL,
    num BIGINT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    campaign_id BLOB REFERENCES campaign (id),
    area_id BLOB REFERENCES area (id),
    unit_id BLOB NOT NULL REFERENCES unit (id),
    unit_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    responsible_person TEXT,
    deadline TEXT NOT NULL,
    state TEXT NOT NULL,
    evidence TEXT,
    completed_at TEXT,
    created_by_unit_id BLOB NOT NULL REFERENCES unit (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX measure_unit_path ON measure (unit_path, num);
CREATE INDEX measure_area ON measure (area_id, num);
CREATE INDEX measure_open_deadline ON measure (deadline) WHERE state IN ('planned', 'in_progress');

CREATE TABLE measure_event (
    id BLOB PRIMARY KEY NOT NULL,
    measure_id BLOB NOT NULL REFERENCES measure (id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor_user_id BLOB REFERENCES app_user (id),
    actor_name TEXT NOT NULL,
    actor_unit_id BLOB REFERENCES unit (id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    comment TEXT,
    data_json TEXT NOT NULL,
    UNIQUE (measure_id, seq)
);
