-- Portcullis service schema, SQLite. Times are Unix seconds (INTEGER).
CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    sector      TEXT    NOT NULL CHECK (sector IN ('central_government','nhs_trust','gp_practice','healthcare_supplier','local_authority','other')),
    size        INTEGER NOT NULL CHECK (size >= 0),
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    email           TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('member','org_admin','assessor','analyst','site_admin')),
    totp_secret     TEXT,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('enrolment','host')),
    token_hash  TEXT    NOT NULL UNIQUE,
    host        TEXT,
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org_id);

CREATE TABLE submissions (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    host        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('assessment','scan','sbom','practice','detections')),
    client_id   TEXT    NOT NULL,
    token_id    INTEGER REFERENCES api_tokens(id),
    received_at INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    UNIQUE (org_id, client_id)
);
CREATE INDEX submissions_org_time ON submissions(org_id, received_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    org_id      INTEGER REFERENCES organisations(id),
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX audit_log_org_time ON audit_log(org_id, at);
