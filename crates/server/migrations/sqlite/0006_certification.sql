-- Cyber Essentials self-assessment, assessor review, certificates, and the
-- funded-support applications with their editable eligibility rules.
-- Times are Unix seconds. States are enforced by the store (and CHECKs here).
CREATE TABLE ce_applications (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    scheme          TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('draft','submitted','clarification','passed','failed')),
    created_by      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    submitted_at    INTEGER,
    declared_by     TEXT,
    decided_at      INTEGER,
    decided_by      TEXT,
    decision_reason TEXT
);
CREATE INDEX ce_applications_org ON ce_applications(org_id, created_at);
CREATE INDEX ce_applications_state ON ce_applications(state, submitted_at);
-- At most one open application per organisation (also under concurrent opens).
CREATE UNIQUE INDEX ce_applications_one_open ON ce_applications(org_id) WHERE state IN ('draft','submitted','clarification');

CREATE TABLE ce_answers (
    application_id  INTEGER NOT NULL REFERENCES ce_applications(id),
    question_id     TEXT    NOT NULL,
    answer          TEXT    NOT NULL,
    note            TEXT    NOT NULL DEFAULT '',
    source          TEXT    NOT NULL CHECK (source IN ('agent','org')),
    evidence        TEXT,
    updated_by      TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (application_id, question_id)
);

CREATE TABLE ce_clarifications (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES ce_applications(id),
    question_id     TEXT    NOT NULL,
    request         TEXT    NOT NULL,
    asked_by        TEXT    NOT NULL,
    asked_at        INTEGER NOT NULL,
    response        TEXT,
    answered_by     TEXT,
    answered_at     INTEGER
);
CREATE INDEX ce_clarifications_app ON ce_clarifications(application_id);

CREATE TABLE ce_certificates (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    application_id  INTEGER NOT NULL UNIQUE REFERENCES ce_applications(id),
    number          TEXT    NOT NULL UNIQUE,
    scheme          TEXT    NOT NULL,
    issued_at       INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    reminded_60     INTEGER,
    reminded_30     INTEGER,
    reminded_7      INTEGER
);
CREATE INDEX ce_certificates_org ON ce_certificates(org_id, issued_at);
CREATE INDEX ce_certificates_expiry ON ce_certificates(expires_at);

-- Small service-wide settings: the anonymous-form signing key, the
-- "eligibility rules seeded" flag.
CREATE TABLE ce_settings (
    name            TEXT    PRIMARY KEY,
    value           TEXT    NOT NULL
);

CREATE TABLE support_rules (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    scheme          TEXT    NOT NULL,
    sectors         TEXT    NOT NULL,
    min_staff       INTEGER NOT NULL CHECK (min_staff >= 0),
    max_staff       INTEGER NOT NULL CHECK (max_staff >= min_staff),
    roles           TEXT    NOT NULL,
    active          INTEGER NOT NULL CHECK (active IN (0,1)),
    explanation     TEXT    NOT NULL,
    updated_by      TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE support_applications (
    id              INTEGER PRIMARY KEY,
    org_name        TEXT    NOT NULL,
    contact_name    TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    sector          TEXT    NOT NULL,
    staff           INTEGER NOT NULL,
    role            TEXT    NOT NULL,
    details         TEXT    NOT NULL,
    eligible_rule   INTEGER,
    eligibility     TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('submitted','under_review','approved','declined')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    decided_by      TEXT,
    decision_note   TEXT
);
CREATE INDEX support_applications_state ON support_applications(state, created_at);
CREATE INDEX support_applications_email ON support_applications(email, created_at);
