-- auth (area A): multi-factor authentication, session stages, login defences.
-- Times are Unix seconds (BIGINT).

-- TOTP: `totp_secret` (from 0001) holds the confirmed base32 secret;
-- `totp_pending` a secret shown on the set-up page and not yet confirmed;
-- `totp_last_step` the last 30-second step accepted (replay refusal).
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- A session's stage: 'code' (password accepted, TOTP code due), 'setup'
-- (password accepted, MFA must be set up first) or 'full'. Only 'full'
-- sessions reach pages. The default is the safe one.
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'code' CHECK (stage IN ('code','setup','full'));
ALTER TABLE sessions ADD COLUMN mfa_failures BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- One-time recovery codes, SHA-256 hashed.
CREATE TABLE recovery_codes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users(id),
    code_hash   TEXT    NOT NULL UNIQUE,
    used_at     BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- Every sign-in attempt (never the password), for the per-IP limits and
-- the spray signal; rows older than a day are swept.
CREATE TABLE login_attempts (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT  NOT NULL,
    ip      TEXT    NOT NULL,
    email   TEXT    NOT NULL,
    ok      BIGINT  NOT NULL
);
CREATE INDEX login_attempts_ip_time ON login_attempts(ip, at);
CREATE INDEX login_attempts_time ON login_attempts(at);

-- Source addresses refused until `blocked_until`. The row with ip '*'
-- records the last service-wide spray alert.
CREATE TABLE ip_blocks (
    ip              TEXT    PRIMARY KEY,
    blocked_until   BIGINT  NOT NULL,
    reason          TEXT    NOT NULL
);

-- OpenID Connect sign-ins in progress: the state (hashed), the PKCE
-- verifier and the nonce, used once and within 10 minutes.
CREATE TABLE oidc_logins (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state_hash  TEXT    NOT NULL UNIQUE,
    verifier    TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    next        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);
