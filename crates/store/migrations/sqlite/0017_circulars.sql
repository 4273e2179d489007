-- Circulars (通报): composed by the office from warnings or overdue hazards,
-- numbered and rendered once at issue, sent to the units concerned, kept.
-- Keep in step with ../postgres/0017_circulars.sql (a test compares them).

CREATE TABLE circular (
    id BLOB PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    kind TEXT NOT NULL,
    issuer_unit_id BLOB NOT NULL REFERENCES unit (id),
    jurisdiction_path TEXT NOT NULL,
    title TEXT NOT NULL,
    number_prefix TEXT NOT NULL,
    year INTEGER,
    seq INTEGER,
    document_number TEXT UNIQUE,
    addressee TEXT NOT NULL,
    opening TEXT NOT NULL,
    requirements_json TEXT NOT NULL,
    cc TEXT,
    as_of TEXT,
    issued_on TEXT,
    attachment_id BLOB REFERENCES attachment (id),
    created_by BLOB REFERENCES app_user (id),
    created_at TEXT NOT NULL,
    issued_by BLOB REFERENCES app_user (id),
    issued_at TEXT,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX circular_jurisdiction ON circular (jurisdiction_path, created_at);

CREATE TABLE circular_item (
    circular_id BLOB NOT NULL REFERENCES circular (id),
    seq INTEGER NOT NULL,
    warning_id BLOB REFERENCES warning (id),
    hazard_id BLOB REFERENCES hazard (id),
    measure_id BLOB REFERENCES measure (id),
    unit_id BLOB NOT NULL REFERENCES unit (id),
    snapshot_json TEXT NOT NULL,
    remark TEXT,
    PRIMARY KEY (circular_id, seq)
);
CREATE INDEX circular_item_hazard ON circular_item (hazard_id) WHERE hazard_id IS NOT NULL;

CREATE TABLE circular_recipient (
    circular_id BLOB NOT NULL REFERENCES circular (id),
    unit_id BLOB NOT NULL REFERENCES unit (id),
    first_read_at TEXT,
    PRIMARY KEY (circular_id, unit_id)
);
CREATE INDEX circular_recipient_unit ON circular_recipient (unit_id, circular_id);
