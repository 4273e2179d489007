-- Closed-loop hazard management: the problem-and-hazard list, the measures
-- list, listed supervision, extension requests, the working-day calendar.
-- Keep in step with ../sqlite/0002_hazards.sql (a test compares them).

-- One row per year: the holiday notice as published (JSON lists).
CREATE TABLE holiday_notice (
    year INTEGER PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    holidays_json TEXT NOT NULL,
    workdays_json TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- Human-readable numbers (YH2021-000123, ZC2021-000045). Every write already
-- serialises on audit_head, so a counter row costs no extra contention.
CREATE TABLE number_counter (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

CREATE TABLE hazard (
    id UUID PRIMARY KEY NOT NULL,
    num BIGINT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    campaign_id UUID REFERENCES campaign (id),
    area_id UUID REFERENCES area (id),
    unit_id UUID NOT NULL REFERENCES unit (id),
    unit_path TEXT COLLATE "C" NOT NULL,
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
    responsible_unit_id UUID REFERENCES unit (id),
    responsible_person TEXT,
    responsible_phone TEXT,
    deadline DATE,
    deadline_rule TEXT,
    found_at TIMESTAMPTZ NOT NULL,
    found_by TEXT NOT NULL,
    found_by_user_id UUID REFERENCES app_user (id),
    found_by_unit_id UUID NOT NULL REFERENCES unit (id),
    assigned_by_unit_id UUID REFERENCES unit (id),
    accepting_unit_id UUID REFERENCES unit (id),
    state TEXT NOT NULL,
    major_report_json TEXT,
    plan_json TEXT,
    rectification TEXT,
    submitted_at TIMESTAMPTZ,
    accepted_by TEXT,
    closed_at TIMESTAMPTZ,
    acceptance_comment TEXT,
    dismiss_reason TEXT,
    duplicate_of UUID REFERENCES hazard (id),
    listed BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
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
-- pairs (see bihuan_domain::text::search_tokens), built as a tsvector
-- literal so that no text-search parser or locale is involved.
ALTER TABLE hazard ADD COLUMN search tsvector;
CREATE INDEX hazard_search ON hazard USING gin (search);

-- The timeline: one row per change, never updated.
CREATE TABLE hazard_event (
    id UUID PRIMARY KEY NOT NULL,
    hazard_id UUID NOT NULL REFERENCES hazard (id),
    seq INTEGER NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor_user_id UUID REFERENCES app_user (id),
    actor_name TEXT NOT NULL,
    actor_unit_id UUID REFERENCES unit (id),
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
    id UUID PRIMARY KEY NOT NULL,
    hazard_id UUID NOT NULL REFERENCES hazard (id),
    level TEXT NOT NULL,
    supervising_unit_id UUID NOT NULL REFERENCES unit (id),
    document_number TEXT NOT NULL,
    listed_on DATE NOT NULL,
    required_by DATE NOT NULL,
    signatory TEXT NOT NULL,
    requirements TEXT,
    lifted_on DATE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX hazard_listing_current ON hazard_listing (hazard_id) WHERE lifted_on IS NULL;
CREATE INDEX hazard_listing_hazard ON hazard_listing (hazard_id, listed_on);

-- 延期申请 and their decisions.
CREATE TABLE hazard_extension (
    id UUID PRIMARY KEY NOT NULL,
    hazard_id UUID NOT NULL REFERENCES hazard (id),
    current_deadline DATE NOT NULL,
    requested_deadline DATE NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_by_user_id UUID REFERENCES app_user (id),
    requested_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    decision_comment TEXT
);
CREATE UNIQUE INDEX hazard_extension_pending ON hazard_extension (hazard_id) WHERE status = 'pending';
CREATE INDEX hazard_extension_hazard ON hazard_extension (hazard_id, requested_at);

-- 制度措施清单: institutional measures per unit and area.
CREATE TABLE measure (
    id UUID PRIMARY KEY NOT NULL,
    num BIGINT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    campaign_id UUID REFERENCES campaign (id),
    area_id UUID REFERENCES area (id),
    unit_id UUID NOT NULL REFERENCES unit (id),
    unit_path TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    responsible_person TEXT,
    deadline DATE NOT NULL,
    state TEXT NOT NULL,
    evidence TEXT,
    completed_at TIMESTAMPTZ,
    created_by_unit_id UUID NOT NULL REFERENCES unit (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX measure_unit_path ON measure (unit_path, num);
CREATE INDEX measure_area ON measure (area_id, num);
CREATE INDEX measure_open_deadline ON measure (deadline) WHERE state IN ('planned', 'in_progress');

CREATE TABLE measure_event (
    id UUID PRIMARY KEY NOT NULL,
    measure_id UUID NOT NULL REFERENCES measure (id),
    seq INTEGER NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor_user_id UUID REFERENCES app_user (id),
    actor_name TEXT NOT NULL,
    actor_unit_id UUID REFERENCES unit (id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    comment TEXT,
    data_json TEXT NOT NULL,
    UNIQUE (measure_id, seq)
);
