-- Portcullis service schema, PostgreSQL. Times are Unix seconds (BIGINT).
CREATE TABLE organisations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    sector      TEXT    NOT NULL CHECK (sector IN ('central_government','nhs_trust','gp_practice','healthcare_supplier','local_authority','other')),
    size        BIGINT  NOT NULL CHECK (size >= 0),
    created_at  BIGINT  NOT NULL
);

CREATE TABLE users (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT  NOT NULL REFERENCES organisations(id),
    email           TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('member','org_admin','assessor','analyst','site_admin')),
    totp_secret     TEXT,
    failed_logins   BIGINT  NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users(id),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES organisations(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('enrolment','host')),
    token_hash  TEXT    NOT NULL UNIQUE,
    host        TEXT,
    label       TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens(org_id);

CREATE TABLE submissions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES organisations(id),
    host        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('assessment','scan','sbom','practice','detections')),
    client_id   TEXT    NOT NULL,
    token_id    BIGINT  REFERENCES api_tokens(id),
    received_at BIGINT  NOT NULL,
    body        TEXT    NOT NULL,
    UNIQUE (org_id, client_id)
);
CREATE INDEX submissions_org_time ON submissions(org_id, received_at);

CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT  NOT NULL,
    org_id      BIGINT  REFERENCES organisations(id),
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX audit_log_org_time ON audit_log(org_id, at);
