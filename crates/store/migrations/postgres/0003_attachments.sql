-- Attachments: photos and documents kept in the content-addressed file store
-- (bihuan-files), and their links to hazards.
-- Keep in step with ../sqlite/0003_attachments.sql (a test compares them).

-- One row per upload: what the bytes are (recognised from the bytes, never
-- from the name), what the photo says about itself (EXIF), and who uploaded
-- it. The same bytes uploaded twice are stored once on disk (sha256) and
-- have two rows: each upload keeps its own name, uploader and time.
CREATE TABLE attachment (
    id UUID PRIMARY KEY NOT NULL,
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    extension TEXT NOT NULL,
    size BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    has_thumbnail BOOLEAN NOT NULL,
    width INTEGER,
    height INTEGER,
    orientation INTEGER,
    -- EXIF DateTimeOriginal as an instant; taken_offset is the UTC offset
    -- the camera wrote, in minutes (NULL: none written, Beijing time assumed).
    taken_at TIMESTAMPTZ,
    taken_offset INTEGER,
    -- WGS-84 degrees and metres, as the camera wrote them.
    gps_latitude DOUBLE PRECISION,
    gps_longitude DOUBLE PRECISION,
    gps_altitude DOUBLE PRECISION,
    uploaded_by_user_id UUID REFERENCES app_user (id),
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachment_sha256 ON attachment (sha256);

-- Where an attachment belongs: a hazard, in a role (before: 隐患照片,
-- after: 整改照片, document: 治理方案, 验收报告 …), added by one timeline
-- event, in upload order. Never updated.
CREATE TABLE hazard_attachment (
    hazard_id UUID NOT NULL REFERENCES hazard (id),
    attachment_id UUID NOT NULL REFERENCES attachment (id),
    role TEXT NOT NULL,
    event_id UUID NOT NULL REFERENCES hazard_event (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (hazard_id, attachment_id),
    UNIQUE (hazard_id, position)
);
CREATE INDEX hazard_attachment_attachment ON hazard_attachment (attachment_id);
CREATE INDEX hazard_attachment_event ON hazard_attachment (event_id);
