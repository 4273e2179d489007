-- Foundation: units, users, authentication, audit trail, campaigns.
-- Keep in step with ../postgres/0001_foundation.sql (a test compares them).

CREATE TABLE unit (
    id BLOB PRIMARY KEY NOT NULL,
    parent_id BLOB REFERENCES unit (id),
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    short_name TEXT,
    locality_kind TEXT,
    duties TEXT,
    credit_code TEXT UNIQUE,
    address TEXT,
    industry TEXT,
    scale TEXT,
    flags TEXT NOT NULL,
    legal_representative TEXT,
    legal_representative_phone TEXT,
    principal TEXT,
    principal_phone TEXT,
    longitude REAL,
    latitude REAL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX unit_parent ON unit (parent_id);
CREATE UNIQUE INDEX unit_sibling_name ON unit (parent_id, name);
CREATE INDEX unit_kind ON unit (kind, path);

CREATE TABLE app_user (
    id BLOB PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    unit_id BLOB NOT NULL REFERENCES unit (id),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    language TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX app_user_unit ON app_user (unit_id);

CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX user_session_user ON user_session (user_id);
CREATE INDEX user_session_expiry ON user_session (expires_at);

CREATE TABLE api_token (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES app_user (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_token_user ON api_token (user_id);

CREATE TABLE login_attempt (
    id BLOB PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    success BOOLEAN NOT NULL
);
CREATE INDEX login_attempt_user ON login_attempt (username, at);
CREATE INDEX login_attempt_ip ON login_attempt (ip, at);

CREATE TABLE audit_entry (
    seq BIGINT PRIMARY KEY NOT NULL,
    id BLOB NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor_user_id BLOB,
    actor_name TEXT NOT NULL,
    actor_unit_id BLOB,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_entry_entity ON audit_entry (entity_type, entity_id);
CREATE INDEX audit_entry_actor ON audit_entry (actor_user_id, seq);
CREATE INDEX audit_entry_at ON audit_entry (at);

-- The head of the chain: one row, locked by every audit write so that the
-- chain stays linear with many writers.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE campaign (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    document_number TEXT,
    issuer TEXT,
    signatory TEXT,
    issued_on TEXT,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    owner_unit_id BLOB NOT NULL REFERENCES unit (id),
    office_unit_id BLOB REFERENCES unit (id),
    basis TEXT,
    general_requirements TEXT,
    main_tasks_preamble TEXT,
    schedule_notes TEXT,
    safeguards_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);

-- The unit keys of the campaign file, so that an export writes the same keys.
CREATE TABLE campaign_unit (
    campaign_id BLOB NOT NULL REFERENCES campaign (id),
    unit_key TEXT NOT NULL,
    unit_id BLOB NOT NULL REFERENCES unit (id),
    seq INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, unit_key)
);

CREATE TABLE campaign_post (
    id BLOB PRIMARY KEY NOT NULL,
    campaign_id BLOB NOT NULL REFERENCES campaign (id),
    seq INTEGER NOT NULL,
    unit_id BLOB NOT NULL REFERENCES unit (id),
    title TEXT NOT NULL,
    holder TEXT,
    note TEXT
);
CREATE INDEX campaign_post_campaign ON campaign_post (campaign_id, seq);

CREATE TABLE phase (
    id BLOB PRIMARY KEY NOT NULL,
    campaign_id BLOB NOT NULL REFERENCES campaign (id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    aims TEXT NOT NULL
);
CREATE INDEX phase_campaign ON phase (campaign_id, seq);

CREATE TABLE area (
    id BLOB PRIMARY KEY NOT NULL,
    campaign_id BLOB NOT NULL REFERENCES campaign (id),
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    short_name TEXT,
    kind TEXT NOT NULL,
    note TEXT,
    UNIQUE (campaign_id, code)
);

CREATE TABLE area_lead (
    area_id BLOB NOT NULL REFERENCES area (id),
    unit_id BLOB NOT NULL REFERENCES unit (id),
    seq INTEGER NOT NULL,
    PRIMARY KEY (area_id, unit_id)
);
CREATE INDEX area_lead_unit ON area_lead (unit_id);

CREATE TABLE task (
    id BLOB PRIMARY KEY NOT NULL,
    area_id BLOB NOT NULL REFERENCES area (id),
    seq INTEGER NOT NULL,
    label TEXT NOT NULL,
    task_group TEXT,
    body TEXT NOT NULL
);
CREATE INDEX task_area ON task (area_id, seq);

CREATE TABLE indicator (
    id BLOB PRIMARY KEY NOT NULL,
    campaign_id BLOB NOT NULL REFERENCES campaign (id),
    area_id BLOB NOT NULL REFERENCES area (id),
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    task_label TEXT,
    task_group TEXT,
    comparator TEXT NOT NULL,
    target TEXT,
    unit_label TEXT,
    deadline TEXT NOT NULL,
    basis TEXT NOT NULL,
    UNIQUE (campaign_id, code)
);
CREATE INDEX indicator_area ON indicator (area_id);

CREATE TABLE indicator_lead (
    indicator_id BLOB NOT NULL REFERENCES indicator (id),
    unit_id BLOB NOT NULL REFERENCES unit (id),
    seq INTEGER NOT NULL,
    PRIMARY KEY (indicator_id, unit_id)
);
CREATE INDEX indicator_lead_unit ON indicator_lead (unit_id);

CREATE TABLE indicator_value (
    id BLOB PRIMARY KEY NOT NULL,
    indicator_id BLOB NOT NULL REFERENCES indicator (id),
    value TEXT NOT NULL,
    measured_on TEXT NOT NULL,
    reporting_unit_id BLOB NOT NULL REFERENCES unit (id),
    reported_by BLOB NOT NULL REFERENCES app_user (id),
    evidence TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX indicator_value_latest ON indicator_value (indicator_id, measured_on, created_at);
