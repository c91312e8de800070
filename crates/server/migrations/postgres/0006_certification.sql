-- Cyber Essentials self-assessment, assessor review, certificates, and the
-- funded-support applications with their editable eligibility rules.
-- PostgreSQL. Times are Unix seconds (BIGINT). States are enforced by the store (and CHECKs here).
CREATE TABLE ce_applications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT  NOT NULL REFERENCES organisations(id),
    scheme          TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('draft','submitted','clarification','passed','failed')),
    created_by      TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    submitted_at    BIGINT,
    declared_by     TEXT,
    decided_at      BIGINT,
    decided_by      TEXT,
    decision_reason TEXT
);
CREATE INDEX ce_applications_org ON ce_applications(org_id, created_at);
CREATE INDEX ce_applications_state ON ce_applications(state, submitted_at);
-- At most one open application per organisation (also under concurrent opens).
CREATE UNIQUE INDEX ce_applications_one_open ON ce_applications(org_id) WHERE state IN ('draft','submitted','clarification');

CREATE TABLE ce_answers (
    application_id  BIGINT  NOT NULL REFERENCES ce_applications(id),
    question_id     TEXT    NOT NULL,
    answer          TEXT    NOT NULL,
    note            TEXT    NOT NULL DEFAULT '',
    source          TEXT    NOT NULL CHECK (source IN ('agent','org')),
    evidence        TEXT,
    updated_by      TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (application_id, question_id)
);

CREATE TABLE ce_clarifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  BIGINT  NOT NULL REFERENCES ce_applications(id),
    question_id     TEXT    NOT NULL,
    request         TEXT    NOT NULL,
    asked_by        TEXT    NOT NULL,
    asked_at        BIGINT  NOT NULL,
    response        TEXT,
    answered_by     TEXT,
    answered_at     BIGINT
);
CREATE INDEX ce_clarifications_app ON ce_clarifications(application_id);

CREATE TABLE ce_certificates (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT  NOT NULL REFERENCES organisations(id),
    application_id  BIGINT  NOT NULL UNIQUE REFERENCES ce_applications(id),
    number          TEXT    NOT NULL UNIQUE,
    scheme          TEXT    NOT NULL,
    issued_at       BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    reminded_60     BIGINT,
    reminded_30     BIGINT,
    reminded_7      BIGINT
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
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT    NOT NULL,
    scheme          TEXT    NOT NULL,
    sectors         TEXT    NOT NULL,
    min_staff       BIGINT  NOT NULL CHECK (min_staff >= 0),
    max_staff       BIGINT  NOT NULL CHECK (max_staff >= min_staff),
    roles           TEXT    NOT NULL,
    active          BIGINT  NOT NULL CHECK (active IN (0,1)),
    explanation     TEXT    NOT NULL,
    updated_by      TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE support_applications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_name        TEXT    NOT NULL,
    contact_name    TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    sector          TEXT    NOT NULL,
    staff           BIGINT  NOT NULL,
    role            TEXT    NOT NULL,
    details         TEXT    NOT NULL,
    eligible_rule   BIGINT,
    eligibility     TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('submitted','under_review','approved','declined')),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    decided_by      TEXT,
    decision_note   TEXT
);
CREATE INDEX support_applications_state ON support_applications(state, created_at);
CREATE INDEX support_applications_email ON support_applications(email, created_at);
