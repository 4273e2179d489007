-- Circulars (通报): composed by the office from warnings or overdue hazards,
-- numbered and rendered once at issue, sent to the units concerned, kept.
-- Keep in step with ../sqlite/0017_circulars.sql (a test compares them).

CREATE TABLE circular (
    id UUID PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    kind TEXT NOT NULL,
    issuer_unit_id UUID NOT NULL REFERENCES unit (id),
    jurisdiction_path TEXT COLLATE "C" NOT NULL,
    title TEXT NOT NULL,
    number_prefix TEXT NOT NULL,
    year BIGINT,
    seq BIGINT,
    document_number TEXT UNIQUE,
    addressee TEXT NOT NULL,
    opening TEXT NOT NULL,
    requirements_json TEXT NOT NULL,
    cc TEXT,
    as_of DATE,
    issued_on DATE,
    attachment_id UUID REFERENCES attachment (id),
    created_by UUID REFERENCES app_user (id),
    created_at TIMESTAMPTZ NOT NULL,
    issued_by UUID REFERENCES app_user (id),
    issued_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX circular_jurisdiction ON circular (jurisdiction_path, created_at);

CREATE TABLE circular_item (
    circular_id UUID NOT NULL REFERENCES circular (id),
    seq BIGINT NOT NULL,
    warning_id UUID REFERENCES warning (id),
    hazard_id UUID REFERENCES hazard (id),
    measure_id UUID REFERENCES measure (id),
    unit_id UUID NOT NULL REFERENCES unit (id),
    snapshot_json TEXT NOT NULL,
    remark TEXT,
    PRIMARY KEY (circular_id, seq)
);
CREATE INDEX circular_item_hazard ON circular_item (hazard_id) WHERE hazard_id IS NOT NULL;

CREATE TABLE circular_recipient (
    circular_id UUID NOT NULL REFERENCES circular (id),
    unit_id UUID NOT NULL REFERENCES unit (id),
    first_read_at TIMESTAMPTZ,
    PRIMARY KEY (circular_id, unit_id)
);
CREATE INDEX circular_recipient_unit ON circular_recipient (unit_id, circular_id);
