-- auth (area A): multi-factor authentication, session stages, login defences.
-- Times are Unix seconds (INTEGER).

-- TOTP: `totp_secret` (from 0001) holds the confirmed base32 secret;
-- `totp_pending` a secret shown on the set-up page and not yet confirmed;
-- `totp_last_step` the last 30-second step accepted (replay refusal).
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- A session's stage: 'code' (password accepted, TOTP code due), 'setup'
-- (password accepted, MFA must be set up first) or 'full'. Only 'full'
-- sessions reach pages. The default is the safe one.
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'code' CHECK (stage IN ('code','setup','full'));
ALTER TABLE sessions ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- One-time recovery codes, SHA-256 hashed.
CREATE TABLE recovery_codes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    code_hash   TEXT    NOT NULL UNIQUE,
    used_at     INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- Every sign-in attempt (never the password), for the per-IP limits and
-- the spray signal; rows older than a day are swept.
CREATE TABLE login_attempts (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    ip      TEXT    NOT NULL,
    email   TEXT    NOT NULL,
    ok      INTEGER NOT NULL
);
CREATE INDEX login_attempts_ip_time ON login_attempts(ip, at);
CREATE INDEX login_attempts_time ON login_attempts(at);

-- Source addresses refused until `blocked_until`. The row with ip '*'
-- records the last service-wide spray alert.
CREATE TABLE ip_blocks (
    ip              TEXT    PRIMARY KEY,
    blocked_until   INTEGER NOT NULL,
    reason          TEXT    NOT NULL
);

-- OpenID Connect sign-ins in progress: the state (hashed), the PKCE
-- verifier and the nonce, used once and within 10 minutes.
CREATE TABLE oidc_logins (
    id          INTEGER PRIMARY KEY,
    state_hash  TEXT    NOT NULL UNIQUE,
    verifier    TEXT    NOT NULL,
    nonce       TEXT    NOT NULL,
    next        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
