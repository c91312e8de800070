//! Store functions: authentication — sign-in with its defences (per-account
//! lockout, per-source-address limits, the password-spray signal), session
//! stages and multi-factor authentication (TOTP, recovery codes), session
//! sweeping and listing, and user administration (list, disable, reset MFA).
//!
//! All state lives in the database, so several `serve` processes share the
//! limits; counters are updated with single atomic statements.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha1::Sha1;

use super::{
    audit, dummy_hash, hash_password, random_token, token_hash, verify_blocking, OrgId, Store,
    Tenant, User, SESSION_SECONDS,
};
use crate::{now, Role, StoreError};

/// Consecutive failures (passwords or codes) before an account is locked.
pub(crate) const LOCKOUT_AFTER: i64 = 5;
/// How long an account stays locked.
pub(crate) const LOCKOUT_SECONDS: i64 = 15 * 60;
/// The window the per-address limits count over.
pub(crate) const WINDOW_SECONDS: i64 = 15 * 60;
/// Failed sign-ins from one address within the window before it is refused.
pub(crate) const IP_MAX_FAILURES: i64 = 20;
/// Distinct accounts failing from one address within the window before it
/// is refused (password spraying tries few passwords on many accounts).
pub(crate) const IP_MAX_ACCOUNTS: i64 = 10;
/// How long a refused address stays refused.
pub(crate) const IP_BLOCK_SECONDS: i64 = 15 * 60;
/// Distinct accounts failing service-wide within the window that raise the
/// spray alert (audited and sent to the cyber unit through the outbox).
pub(crate) const GLOBAL_SPRAY_ACCOUNTS: i64 = 50;
/// Wrong codes within one half-signed-in session before it is ended.
const MFA_MAX_FAILURES: i64 = 5;
/// How long a half-signed-in session (code or set-up due) lasts.
const PENDING_SESSION_SECONDS: i64 = 15 * 60;
/// Recovery codes issued when MFA is set up.
const RECOVERY_CODES: usize = 10;
/// Sign-in attempts are kept this long (for the limits and for inspection).
const ATTEMPTS_KEPT_SECONDS: i64 = 24 * 60 * 60;
/// How long an OpenID Connect sign-in may take.
const OIDC_STATE_SECONDS: i64 = 10 * 60;
const MAX_EMAIL: usize = 320;
const MAX_PASSWORD: usize = 1024;
/// TOTP parameters (RFC 6238 defaults, which every authenticator app supports).
const TOTP_PERIOD: i64 = 30;
const TOTP_DIGITS: u32 = 6;

/// How far a session has got through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SessionStage {
    /// Password accepted; the TOTP code (or a recovery code) is due.
    Code,
    /// Password accepted; the user's role requires MFA, which is not set up.
    Setup,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    fn as_str(self) -> &'static str {
        match self {
            SessionStage::Code => "code",
            SessionStage::Setup => "setup",
            SessionStage::Full => "full",
        }
    }
    fn parse(s: &str) -> Result<SessionStage, StoreError> {
        match s {
            "code" => Ok(SessionStage::Code),
            "setup" => Ok(SessionStage::Setup),
            "full" => Ok(SessionStage::Full),
            _ => Err(StoreError::Corrupt("bad session stage".into())),
        }
    }
}

/// A user as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// Its ID.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// Its e-mail address.
    pub email: String,
    /// Its role.
    pub role: Role,
    /// Whether TOTP is set up.
    pub mfa: bool,
    /// When it was disabled, if it is.
    pub disabled_at: Option<i64>,
    /// Whether it is locked after failed sign-ins right now.
    pub locked: bool,
}

/// One of a user's sessions, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// Its ID.
    pub id: i64,
    /// When it started.
    pub created_at: i64,
    /// When it ends.
    pub expires_at: i64,
    /// The address it signed in from (empty when unknown).
    pub ip: String,
    /// Whether it is the session asking.
    pub current: bool,
}

/// True for the roles that must use MFA: everyone who administers or sees
/// more than their own organisation's pages (org admin, assessor, analyst,
/// site admin).
pub fn role_requires_mfa(role: Role) -> bool {
    !matches!(role, Role::Member)
}

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn user_from(r: &crate::db::Row) -> Result<User, StoreError> {
    Ok(User {
        id: r.int(0)?,
        org: OrgId(r.int(1)?),
        email: r.text(2)?,
        role: Role::parse(&r.text(3)?).ok_or_else(|| StoreError::Corrupt("bad role".into()))?,
    })
}

/// HOTP (RFC 4226) with HMAC-SHA1, 6 digits.
fn hotp(key: &[u8], counter: u64) -> Option<u32> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).ok()?;
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h.get(19)? & 0x0f);
    let b = h.get(off..off + 4)?;
    let bin = u32::from_be_bytes([b.first()? & 0x7f, *b.get(1)?, *b.get(2)?, *b.get(3)?]);
    Some(bin % 10u32.pow(TOTP_DIGITS))
}

/// The TOTP code (RFC 6238, SHA-1, 30 s, 6 digits) of a base32 secret at a
/// Unix time. `None` if the secret is not base32.
pub fn totp_code(secret_base32: &str, unix_time: i64) -> Option<String> {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret_base32.trim_end_matches('=').as_bytes())
        .ok()?;
    let step = u64::try_from(unix_time.div_euclid(TOTP_PERIOD)).ok()?;
    hotp(&key, step).map(|c| format!("{c:06}"))
}

/// The 30-second step of `code` among the previous, current and next step,
/// if it matches one newer than `last_step` (older or reused codes are
/// refused: that is the replay protection).
fn totp_match(secret: &str, code: &str, t: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = t.div_euclid(TOTP_PERIOD);
    let mut found = None;
    for step in [now_step - 1, now_step, now_step + 1] {
        if step <= last_step {
            continue;
        }
        if let Some(expected) = totp_code(secret, step * TOTP_PERIOD) {
            if crate::web::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
                found = Some(step);
            }
        }
    }
    found
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// A recovery code as typed: lower case, without dashes and spaces.
fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The `otpauth://` URI authenticator apps read (from a QR code or typed).
pub fn otpauth_uri(email: &str, secret: &str) -> String {
    let label = crate::web::percent_encode(&format!("Portcullis:{email}"));
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer=Portcullis&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD}"
    )
}

impl Store {
    /// Checks a password from a source address (`None` when unknown) with
    /// every defence: a refused address, a locked or disabled account, an
    /// unknown address and a wrong password all return `Ok(None)` after the
    /// same single Argon2 verification, so neither the answer nor its time
    /// tells them apart. Every attempt is recorded in `login_attempts` and
    /// audited (never the password). Failures count towards the account's
    /// lockout (5 → 15 minutes), the address's limits (20 failures or 10
    /// distinct accounts in 15 minutes → refused for 15 minutes) and the
    /// service-wide spray alert (50 distinct accounts failing in 15 minutes).
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<Option<User>, StoreError> {
        let email = clip(email.trim(), MAX_EMAIL).to_ascii_lowercase();
        let password = clip(password, MAX_PASSWORD);
        let ip = ip.map(|i| clip(i, 64)).filter(|i| !i.is_empty());
        let t = now();
        let blocked = match ip {
            Some(ip) => !self
                .db
                .query(
                    "SELECT ip FROM ip_blocks WHERE ip = $1 AND blocked_until > $2",
                    vec![ip.into(), t.into()],
                )
                .await?
                .is_empty(),
            None => false,
        };
        let rows = if blocked {
            Vec::new()
        } else {
            self.db
                .query(
                    "SELECT id, org_id, email, role, password_hash, locked_until, disabled_at FROM users WHERE email = $1",
                    vec![email.as_str().into()],
                )
                .await?
        };
        let found = match rows.first() {
            Some(r) => Some((user_from(r)?, r.text(4)?, r.opt_int(5)?, r.opt_int(6)?)),
            None => None,
        };
        // Exactly one Argon2 verification on every path, off the database
        // connection (no transaction is open while it runs).
        let hash = found
            .as_ref()
            .map_or_else(|| dummy_hash().to_owned(), |f| f.1.clone());
        let password_ok = verify_blocking(hash, password).await?;
        let actor = format!("user:{email}");
        let from = ip.unwrap_or("an unknown address");
        let mut tx = self.db.begin().await?;
        let (org, action, detail, user) = match found {
            _ if blocked => (
                None,
                "login.refused",
                format!("from {from}: address refused after too many failures"),
                None,
            ),
            None => (None, "login.unknown", format!("from {from}"), None),
            Some((u, _, _, Some(_))) => {
                (Some(u.org), "login.disabled", format!("from {from}"), None)
            }
            Some((u, _, Some(until), _)) if until > t => {
                (Some(u.org), "login.locked", format!("from {from}"), None)
            }
            Some((u, _, _, _)) if password_ok => {
                tx.query(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                    vec![u.id.into()],
                )
                .await?;
                (Some(u.org), "login.ok", format!("from {from}"), Some(u))
            }
            Some((u, _, _, _)) => {
                let failed = count_account_failure(&mut tx, u.id, t).await?;
                (
                    Some(u.org),
                    "login.failed",
                    format!("from {from}; {failed} in a row"),
                    None,
                )
            }
        };
        record_attempt(&mut tx, t, ip, &email, user.is_some()).await?;
        audit(&mut tx, org, &actor, action, &detail).await?;
        if user.is_none() && !blocked {
            defend(&mut tx, t, ip).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// Starts a session for a user whose password was accepted, from `ip`.
    /// Its stage is `Code` if the user has MFA, `Setup` if their role
    /// requires MFA and they have none, `Full` otherwise. Half-signed-in
    /// sessions last 15 minutes; full ones 12 hours. Returns the secret.
    pub async fn start_session(
        &self,
        user: &User,
        ip: Option<&str>,
    ) -> Result<(String, SessionStage), StoreError> {
        let rows = self
            .db
            .query(
                "SELECT totp_secret FROM users WHERE id = $1 AND disabled_at IS NULL",
                vec![user.id.into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::Unauthorized)?;
        let stage = if r.opt_text(0)?.is_some() {
            SessionStage::Code
        } else if role_requires_mfa(user.role) {
            SessionStage::Setup
        } else {
            SessionStage::Full
        };
        let mut tx = self.db.begin().await?;
        let secret = insert_session(&mut tx, user.id, stage, ip.unwrap_or("")).await?;
        tx.commit().await?;
        Ok((secret, stage))
    }

    /// Sign-in in one call, for API clients: password and, for users with
    /// MFA, a TOTP or recovery code. Returns the user and a full session's
    /// secret, or `Ok(None)` for every refusal — including a user whose role
    /// requires MFA and who has not set it up (that is done on the web page
    /// `/mfa/setup`), and a user with MFA who sent no code.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        ip: Option<&str>,
    ) -> Result<Option<(User, String)>, StoreError> {
        let Some(user) = self.login_from(email, password, ip).await? else {
            return Ok(None);
        };
        let (secret, stage) = self.start_session(&user, ip).await?;
        match (stage, code) {
            (SessionStage::Full, _) => Ok(Some((user, secret))),
            (SessionStage::Code, Some(code)) => {
                let r = self.verify_second_factor(&secret, code, ip).await?;
                if r.is_none() {
                    self.end_session(&secret).await?;
                }
                Ok(r)
            }
            _ => {
                self.end_session(&secret).await?;
                Ok(None)
            }
        }
    }

    /// Starts an OpenID Connect sign-in: returns `(state, PKCE verifier,
    /// nonce)`, all 256 random bits; the state is stored hashed with the
    /// verifier, the nonce and where to go afterwards, for 10 minutes.
    pub async fn oidc_begin(&self, next: &str) -> Result<(String, String, String), StoreError> {
        let state = random_token("")?;
        let verifier = random_token("")?;
        let nonce = random_token("")?;
        let t = now();
        let mut tx = self.db.begin().await?;
        tx.query(
            "DELETE FROM oidc_logins WHERE created_at < $1",
            vec![(t - OIDC_STATE_SECONDS).into()],
        )
        .await?;
        tx.query(
            "INSERT INTO oidc_logins (state_hash, verifier, nonce, next, created_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                token_hash(&state).into(),
                verifier.as_str().into(),
                nonce.as_str().into(),
                clip(next, 2000).into(),
                t.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok((state, verifier, nonce))
    }

    /// Takes (once) the sign-in started with `state`: `(verifier, nonce,
    /// next)`, or `None` when unknown, used or older than 10 minutes.
    pub async fn oidc_take(
        &self,
        state: &str,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        let rows = self
            .db
            .query(
                "DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING verifier, nonce, next, created_at",
                vec![token_hash(clip(state, 200)).into()],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        if r.int(3)? < now() - OIDC_STATE_SECONDS {
            return Ok(None);
        }
        Ok(Some((r.text(0)?, r.text(1)?, r.text(2)?)))
    }

    /// Signs in the user whose e-mail address the identity provider
    /// verified (no account is ever created). A disabled or locked account,
    /// or an address without an account, is refused (`Ok(None)`). Every
    /// attempt is recorded and audited like a password sign-in. The caller
    /// then starts the session with [`Store::start_session`], so the
    /// service's own second factor still applies.
    pub async fn oidc_login(
        &self,
        verified_email: &str,
        issuer: &str,
        ip: Option<&str>,
    ) -> Result<Option<User>, StoreError> {
        let email = clip(verified_email.trim(), MAX_EMAIL).to_ascii_lowercase();
        let ip = ip.map(|i| clip(i, 64)).filter(|i| !i.is_empty());
        let t = now();
        let rows = self
            .db
            .query(
                "SELECT id, org_id, email, role, locked_until, disabled_at FROM users WHERE email = $1",
                vec![email.as_str().into()],
            )
            .await?;
        let found = match rows.first() {
            Some(r) => Some((user_from(r)?, r.opt_int(4)?, r.opt_int(5)?)),
            None => None,
        };
        let from = ip.unwrap_or("an unknown address");
        let detail = format!("from {from} via {}", clip(issuer, 200));
        let (org, action, user) = match found {
            None => (None, "login.oidc_unknown", None),
            Some((u, _, Some(_))) => (Some(u.org), "login.disabled", None),
            Some((u, Some(until), _)) if until > t => (Some(u.org), "login.locked", None),
            Some((u, _, _)) => (Some(u.org), "login.oidc_ok", Some(u)),
        };
        let mut tx = self.db.begin().await?;
        record_attempt(&mut tx, t, ip, &email, user.is_some()).await?;
        audit(&mut tx, org, &format!("user:{email}"), action, &detail).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The user and stage of a live session, whatever its stage (for the
    /// sign-in and MFA pages; every other page uses [`Store::session_user`],
    /// which accepts only `Full` sessions).
    pub async fn session_auth(&self, secret: &str) -> Result<(User, SessionStage), StoreError> {
        let rows = self
            .db
            .query(
                "SELECT u.id, u.org_id, u.email, u.role, s.stage FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
                vec![token_hash(secret).into(), now().into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::Unauthorized)?;
        Ok((user_from(r)?, SessionStage::parse(&r.text(4)?)?))
    }

    /// Whether the user has MFA set up.
    pub async fn has_mfa(&self, user: &User) -> Result<bool, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT totp_secret FROM users WHERE id = $1",
                vec![user.id.into()],
            )
            .await?;
        Ok(rows
            .first()
            .ok_or(StoreError::NotFound)?
            .opt_text(0)?
            .is_some())
    }

    /// The TOTP secret being set up for `user` (made on first call, kept
    /// until confirmed), or `None` when MFA is already set up.
    pub async fn totp_setup_secret(&self, user: &User) -> Result<Option<String>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT totp_secret, totp_pending FROM users WHERE id = $1",
                vec![user.id.into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        if r.opt_text(0)?.is_some() {
            return Ok(None);
        }
        if let Some(p) = r.opt_text(1)? {
            return Ok(Some(p));
        }
        let secret = data_encoding::BASE32_NOPAD.encode(&random_bytes::<20>()?);
        // Another request may have made one meanwhile: keep the first.
        self.db
            .query(
                "UPDATE users SET totp_pending = $1 WHERE id = $2 AND totp_pending IS NULL AND totp_secret IS NULL",
                vec![secret.as_str().into(), user.id.into()],
            )
            .await?;
        let rows = self
            .db
            .query(
                "SELECT totp_pending FROM users WHERE id = $1",
                vec![user.id.into()],
            )
            .await?;
        rows.first().ok_or(StoreError::NotFound)?.opt_text(0)
    }

    /// Confirms MFA set-up with a code from the authenticator. On success
    /// the secret becomes the user's, ten recovery codes are made (returned
    /// once; stored hashed), the session is replaced by a new `Full` one and
    /// its secret returned. A wrong code counts as a failure (`Ok(None)`).
    pub async fn confirm_totp(
        &self,
        session_secret: &str,
        code: &str,
        ip: Option<&str>,
    ) -> Result<Option<(String, Vec<String>)>, StoreError> {
        let (user, _) = self.session_auth(session_secret).await?;
        let rows = self
            .db
            .query(
                "SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = $1",
                vec![user.id.into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        if r.opt_text(0)?.is_some() {
            return Err(StoreError::Conflict(
                "two-factor authentication is already set up".into(),
            ));
        }
        let pending = r.opt_text(1)?.ok_or_else(|| {
            StoreError::Invalid("reload the set-up page to get a secret first".into())
        })?;
        let t = now();
        let Some(step) = totp_match(&pending, code, t, r.int(2)?) else {
            self.mfa_failure(session_secret, &user, t, ip).await?;
            return Ok(None);
        };
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        let mut tx = self.db.begin().await?;
        let done = tx
            .query(
                "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1, failed_logins = 0 \
                 WHERE id = $2 AND totp_secret IS NULL AND totp_pending = $3 RETURNING id",
                vec![step.into(), user.id.into(), pending.as_str().into()],
            )
            .await?;
        if done.is_empty() {
            return Err(StoreError::Conflict(
                "the set-up changed meanwhile; reload the page".into(),
            ));
        }
        tx.query(
            "DELETE FROM recovery_codes WHERE user_id = $1",
            vec![user.id.into()],
        )
        .await?;
        for _ in 0..RECOVERY_CODES {
            let raw = super::hex(&random_bytes::<8>()?);
            let shown = format!(
                "{}-{}-{}-{}",
                raw.get(0..4).unwrap_or(""),
                raw.get(4..8).unwrap_or(""),
                raw.get(8..12).unwrap_or(""),
                raw.get(12..16).unwrap_or("")
            );
            tx.query(
                "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",
                vec![user.id.into(), token_hash(&raw).into()],
            )
            .await?;
            codes.push(shown);
        }
        let new_secret = replace_session(&mut tx, session_secret, user.id, ip).await?;
        audit(
            &mut tx,
            Some(user.org),
            &format!("user:{}", user.email),
            "mfa.enable",
            "TOTP set up; 10 recovery codes issued",
        )
        .await?;
        tx.commit().await?;
        Ok(Some((new_secret, codes)))
    }

    /// The second step of sign-in: checks a TOTP code (or a recovery code)
    /// for a `Code`-stage session. On success the session is replaced by a
    /// new `Full` one; returns its secret and the user. A TOTP code is
    /// accepted once (its step must be newer than the last accepted one, so
    /// a replayed or older code is refused); a recovery code once. A wrong
    /// code counts towards the account lockout and the address limits, and
    /// five wrong codes end the session. Returns `Ok(None)` on any refusal.
    pub async fn verify_second_factor(
        &self,
        session_secret: &str,
        code: &str,
        ip: Option<&str>,
    ) -> Result<Option<(User, String)>, StoreError> {
        let (user, stage) = self.session_auth(session_secret).await?;
        if stage != SessionStage::Code {
            return Err(StoreError::Invalid(
                "this session is not waiting for a code; sign in again".into(),
            ));
        }
        let t = now();
        let rows = self
            .db
            .query(
                "SELECT totp_secret, totp_last_step, locked_until FROM users WHERE id = $1",
                vec![user.id.into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        let (Some(secret), last, locked) = (r.opt_text(0)?, r.int(1)?, r.opt_int(2)?) else {
            return Err(StoreError::Invalid(
                "two-factor authentication is not set up; sign in again".into(),
            ));
        };
        if locked.is_some_and(|until| until > t) {
            self.mfa_failure(session_secret, &user, t, ip).await?;
            return Ok(None);
        }
        let mut tx = self.db.begin().await?;
        let how = if let Some(step) = totp_match(&secret, code, t, last) {
            // Atomic across processes: only one request can move the step on.
            let moved = tx
                .query(
                    "UPDATE users SET totp_last_step = $1, failed_logins = 0, locked_until = NULL \
                     WHERE id = $2 AND totp_last_step < $1 RETURNING id",
                    vec![step.into(), user.id.into()],
                )
                .await?;
            (!moved.is_empty()).then(|| "TOTP code".to_owned())
        } else {
            let norm = normalise_recovery(code);
            if norm.len() == 16 {
                let used = tx
                    .query(
                        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL RETURNING id",
                        vec![t.into(), user.id.into(), token_hash(&norm).into()],
                    )
                    .await?;
                if used.is_empty() {
                    None
                } else {
                    tx.query(
                        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                        vec![user.id.into()],
                    )
                    .await?;
                    let left = tx
                        .query(
                            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                            vec![user.id.into()],
                        )
                        .await?;
                    let left = left.first().map_or(Ok(0), |r| r.int(0))?;
                    Some(format!("recovery code ({left} left)"))
                }
            } else {
                None
            }
        };
        let Some(how) = how else {
            drop(tx);
            self.mfa_failure(session_secret, &user, t, ip).await?;
            return Ok(None);
        };
        let new_secret = replace_session(&mut tx, session_secret, user.id, ip).await?;
        record_attempt(&mut tx, t, ip.filter(|i| !i.is_empty()), &user.email, true).await?;
        audit(
            &mut tx,
            Some(user.org),
            &format!("user:{}", user.email),
            "login.mfa_ok",
            &format!("from {}; {how}", ip.unwrap_or("an unknown address")),
        )
        .await?;
        tx.commit().await?;
        Ok(Some((user, new_secret)))
    }

    /// Counts a wrong code: on the session (five end it), on the account
    /// (towards the lockout) and on the address (towards its limits).
    async fn mfa_failure(
        &self,
        session_secret: &str,
        user: &User,
        t: i64,
        ip: Option<&str>,
    ) -> Result<(), StoreError> {
        let ip = ip.map(|i| clip(i, 64)).filter(|i| !i.is_empty());
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "UPDATE sessions SET mfa_failures = mfa_failures + 1 WHERE token_hash = $1 RETURNING mfa_failures",
                vec![token_hash(session_secret).into()],
            )
            .await?;
        let n = rows.first().map_or(Ok(0), |r| r.int(0))?;
        if n >= MFA_MAX_FAILURES {
            tx.query(
                "DELETE FROM sessions WHERE token_hash = $1",
                vec![token_hash(session_secret).into()],
            )
            .await?;
        }
        let failed = count_account_failure(&mut tx, user.id, t).await?;
        record_attempt(&mut tx, t, ip, &user.email, false).await?;
        audit(
            &mut tx,
            Some(user.org),
            &format!("user:{}", user.email),
            "login.mfa_failed",
            &format!(
                "from {}; {failed} in a row{}",
                ip.unwrap_or("an unknown address"),
                if n >= MFA_MAX_FAILURES {
                    "; session ended"
                } else {
                    ""
                }
            ),
        )
        .await?;
        defend(&mut tx, t, ip).await?;
        tx.commit().await
    }

    /// Deletes expired sessions (and sign-in attempts older than a day,
    /// lapsed address refusals and abandoned single sign-ons); returns how
    /// many sessions.
    pub async fn sweep_expired_sessions(&self) -> Result<usize, StoreError> {
        let t = now();
        let mut tx = self.db.begin().await?;
        let gone = tx
            .query(
                "DELETE FROM sessions WHERE expires_at <= $1 RETURNING id",
                vec![t.into()],
            )
            .await?;
        tx.query(
            "DELETE FROM login_attempts WHERE at < $1",
            vec![(t - ATTEMPTS_KEPT_SECONDS).into()],
        )
        .await?;
        tx.query(
            "DELETE FROM ip_blocks WHERE blocked_until <= $1",
            vec![t.into()],
        )
        .await?;
        tx.query(
            "DELETE FROM oidc_logins WHERE created_at < $1",
            vec![(t - OIDC_STATE_SECONDS).into()],
        )
        .await?;
        tx.commit().await?;
        Ok(gone.len())
    }

    /// The user's live sessions, newest first; `current_secret` marks the
    /// one asking.
    pub async fn list_own_sessions(
        &self,
        user: &User,
        current_secret: &str,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let current = token_hash(current_secret);
        let rows = self
            .db
            .query(
                "SELECT id, created_at, expires_at, ip, token_hash FROM sessions WHERE user_id = $1 AND expires_at > $2 AND stage = 'full' ORDER BY id DESC",
                vec![user.id.into(), now().into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionInfo {
                    id: r.int(0)?,
                    created_at: r.int(1)?,
                    expires_at: r.int(2)?,
                    ip: r.text(3)?,
                    current: r.text(4)? == current,
                })
            })
            .collect()
    }

    /// Ends one of the user's own sessions. `NotFound` for anyone else's.
    pub async fn end_own_session(&self, user: &User, session_id: i64) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        let gone = tx
            .query(
                "DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING id",
                vec![session_id.into(), user.id.into()],
            )
            .await?;
        if gone.is_empty() {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            Some(user.org),
            &format!("user:{}", user.email),
            "session.revoke",
            &format!("session {session_id}"),
        )
        .await?;
        tx.commit().await
    }

    /// Changes the user's own password after checking the current one, and
    /// ends every session of the user (the caller signs in again).
    /// `Ok(false)` when the current password is wrong (counted as a failure).
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        if new.len() < 12 || new.len() > MAX_PASSWORD {
            return Err(StoreError::Invalid(
                "the new password must be 12 to 1024 characters".into(),
            ));
        }
        let rows = self
            .db
            .query(
                "SELECT password_hash FROM users WHERE id = $1",
                vec![user.id.into()],
            )
            .await?;
        let hash = rows.first().ok_or(StoreError::NotFound)?.text(0)?;
        if !verify_blocking(hash, clip(current, MAX_PASSWORD)).await? {
            let mut tx = self.db.begin().await?;
            let failed = count_account_failure(&mut tx, user.id, now()).await?;
            audit(
                &mut tx,
                Some(user.org),
                &format!("user:{}", user.email),
                "user.password_change_failed",
                &format!("wrong current password; {failed} in a row"),
            )
            .await?;
            tx.commit().await?;
            return Ok(false);
        }
        let pw = new.to_owned();
        let new_hash = tokio::task::spawn_blocking(move || hash_password(&pw)).await??;
        let mut tx = self.db.begin().await?;
        tx.query(
            "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2",
            vec![new_hash.into(), user.id.into()],
        )
        .await?;
        let ended = tx
            .query(
                "DELETE FROM sessions WHERE user_id = $1 RETURNING id",
                vec![user.id.into()],
            )
            .await?;
        audit(
            &mut tx,
            Some(user.org),
            &format!("user:{}", user.email),
            "user.password_change",
            &format!("{} sessions ended", ended.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The users in scope, by organisation and e-mail.
    pub async fn list_users(&self, scope: &Tenant) -> Result<Vec<UserInfo>, StoreError> {
        let t = now();
        let rows = self
            .db
            .query(
                "SELECT id, org_id, email, role, totp_secret, disabled_at, locked_until FROM users \
                 WHERE ($1 IS NULL OR org_id = $1) ORDER BY org_id, email",
                vec![scope.filter()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let u = user_from(r)?;
                Ok(UserInfo {
                    id: u.id,
                    org: u.org,
                    email: u.email,
                    role: u.role,
                    mfa: r.opt_text(4)?.is_some(),
                    disabled_at: r.opt_int(5)?,
                    locked: r.opt_int(6)?.is_some_and(|until| until > t),
                })
            })
            .collect()
    }

    /// A user in scope that `scope` may administer: `NotFound` outside the
    /// scope, `Forbidden` for an analyst or site admin unless the scope is
    /// `All`.
    async fn administrable(
        &self,
        tx: &mut crate::db::Tx,
        scope: &Tenant,
        user_id: i64,
    ) -> Result<User, StoreError> {
        let rows = tx
            .query(
                "SELECT id, org_id, email, role FROM users WHERE id = $1 AND ($2 IS NULL OR org_id = $2)",
                vec![user_id.into(), scope.filter()],
            )
            .await?;
        let u = user_from(rows.first().ok_or(StoreError::NotFound)?)?;
        if matches!(u.role, Role::Analyst | Role::SiteAdmin) {
            scope.require_all()?;
        }
        Ok(u)
    }

    /// Removes a user's MFA (secret, pending secret, recovery codes) and
    /// ends their sessions: they set it up again at their next sign-in.
    pub async fn reset_mfa(
        &self,
        scope: &Tenant,
        actor: &str,
        user_id: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        let u = self.administrable(&mut tx, scope, user_id).await?;
        tx.query(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1",
            vec![u.id.into()],
        )
        .await?;
        tx.query(
            "DELETE FROM recovery_codes WHERE user_id = $1",
            vec![u.id.into()],
        )
        .await?;
        tx.query("DELETE FROM sessions WHERE user_id = $1", vec![u.id.into()])
            .await?;
        audit(&mut tx, Some(u.org), actor, "mfa.reset", &u.email).await?;
        tx.commit().await
    }

    /// Disables (ending their sessions) or re-enables a user. A disabled
    /// user cannot sign in; the answer is the same as for a wrong password.
    pub async fn set_user_disabled(
        &self,
        scope: &Tenant,
        actor: &str,
        user_id: i64,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        let u = self.administrable(&mut tx, scope, user_id).await?;
        let at: Option<i64> = disabled.then(now);
        tx.query(
            "UPDATE users SET disabled_at = $1, failed_logins = 0, locked_until = NULL WHERE id = $2",
            vec![at.into(), u.id.into()],
        )
        .await?;
        if disabled {
            tx.query("DELETE FROM sessions WHERE user_id = $1", vec![u.id.into()])
                .await?;
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        audit(&mut tx, Some(u.org), actor, action, &u.email).await?;
        tx.commit().await
    }
}

/// Adds one failure to the account; locks it at [`LOCKOUT_AFTER`]. Returns
/// the count. One statement each, so concurrent processes cannot lose one.
async fn count_account_failure(
    tx: &mut crate::db::Tx,
    user_id: i64,
    t: i64,
) -> Result<i64, StoreError> {
    let rows = tx
        .query(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            vec![user_id.into()],
        )
        .await?;
    let failed = rows.first().map_or(Ok(0), |r| r.int(0))?;
    if failed >= LOCKOUT_AFTER {
        tx.query(
            "UPDATE users SET locked_until = $1 WHERE id = $2",
            vec![(t + LOCKOUT_SECONDS).into(), user_id.into()],
        )
        .await?;
    }
    Ok(failed)
}

async fn record_attempt(
    tx: &mut crate::db::Tx,
    t: i64,
    ip: Option<&str>,
    email: &str,
    ok: bool,
) -> Result<(), StoreError> {
    tx.query(
        "INSERT INTO login_attempts (at, ip, email, ok) VALUES ($1, $2, $3, $4)",
        vec![
            t.into(),
            ip.unwrap_or("").into(),
            clip(email, MAX_EMAIL).into(),
            i64::from(ok).into(),
        ],
    )
    .await
    .map(|_| ())
}

/// After a failure: refuses the address when it passed a limit, and raises
/// the service-wide spray alert (at most once per window).
async fn defend(tx: &mut crate::db::Tx, t: i64, ip: Option<&str>) -> Result<(), StoreError> {
    let since = t - WINDOW_SECONDS;
    if let Some(ip) = ip {
        let rows = tx
            .query(
                "SELECT COUNT(*), COUNT(DISTINCT email) FROM login_attempts WHERE ip = $1 AND at > $2 AND ok = 0",
                vec![ip.into(), since.into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        let (failures, accounts) = (r.int(0)?, r.int(1)?);
        let reason = if accounts >= IP_MAX_ACCOUNTS {
            Some(format!(
                "{accounts} accounts failed from {ip} in 15 minutes (password spraying)"
            ))
        } else if failures >= IP_MAX_FAILURES {
            Some(format!(
                "{failures} failed sign-ins from {ip} in 15 minutes"
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            tx.query(
                "INSERT INTO ip_blocks (ip, blocked_until, reason) VALUES ($1, $2, $3) \
                 ON CONFLICT (ip) DO UPDATE SET blocked_until = excluded.blocked_until, reason = excluded.reason",
                vec![ip.into(), (t + IP_BLOCK_SECONDS).into(), reason.as_str().into()],
            )
            .await?;
            audit(tx, None, "system", "login.ip_blocked", &reason).await?;
        }
    }
    let rows = tx
        .query(
            "SELECT COUNT(DISTINCT email) FROM login_attempts WHERE at > $1 AND ok = 0",
            vec![since.into()],
        )
        .await?;
    let accounts = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
    if accounts >= GLOBAL_SPRAY_ACCOUNTS {
        let raised = tx
            .query(
                "SELECT ip FROM ip_blocks WHERE ip = '*' AND blocked_until > $1",
                vec![t.into()],
            )
            .await?;
        if raised.is_empty() {
            let text = format!(
                "{accounts} different accounts failed to sign in within 15 minutes: a password-spraying attack on the service is likely. \
                 Addresses passing the per-address limits are refused automatically; check the audit log (login.*) for the sources."
            );
            tx.query(
                "INSERT INTO ip_blocks (ip, blocked_until, reason) VALUES ('*', $1, $2) \
                 ON CONFLICT (ip) DO UPDATE SET blocked_until = excluded.blocked_until, reason = excluded.reason",
                vec![(t + WINDOW_SECONDS).into(), "spray alert raised".into()],
            )
            .await?;
            audit(tx, None, "system", "login.spray_alert", &text).await?;
            super::outbox::enqueue(
                tx,
                None,
                "login.spray",
                "Portcullis: password spraying suspected",
                &text,
            )
            .await?;
        }
    }
    Ok(())
}

async fn insert_session(
    tx: &mut crate::db::Tx,
    user_id: i64,
    stage: SessionStage,
    ip: &str,
) -> Result<String, StoreError> {
    let secret = random_token("pcs_")?;
    let t = now();
    let life = if stage == SessionStage::Full {
        SESSION_SECONDS
    } else {
        PENDING_SESSION_SECONDS
    };
    tx.query(
        "INSERT INTO sessions (user_id, token_hash, created_at, expires_at, stage, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            user_id.into(),
            token_hash(&secret).into(),
            t.into(),
            (t + life).into(),
            stage.as_str().into(),
            clip(ip, 64).into(),
        ],
    )
    .await?;
    Ok(secret)
}

/// Ends a half-signed-in session and starts a full one (a new secret, so a
/// secret seen before the second factor is worth nothing after it).
async fn replace_session(
    tx: &mut crate::db::Tx,
    old_secret: &str,
    user_id: i64,
    ip: Option<&str>,
) -> Result<String, StoreError> {
    let gone = tx
        .query(
            "DELETE FROM sessions WHERE token_hash = $1 AND user_id = $2 RETURNING ip",
            vec![token_hash(old_secret).into(), user_id.into()],
        )
        .await?;
    let r = gone.first().ok_or(StoreError::Unauthorized)?;
    let ip = match ip {
        Some(i) if !i.is_empty() => i.to_owned(),
        _ => r.text(0)?,
    };
    insert_session(tx, user_id, SessionStage::Full, &ip).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890",
        // 8-digit codes; ours are the last 6 digits of the same values.
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        for (t, code8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp_code(&secret, t).as_deref(), code8.get(2..), "t = {t}");
        }
    }

    #[test]
    fn codes_match_only_in_window_and_after_the_last_step() {
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        let t = 1_234_567_890;
        let step = t / 30;
        let now_code = totp_code(&secret, t).unwrap_or_default();
        assert_eq!(totp_match(&secret, &now_code, t, 0), Some(step));
        assert_eq!(totp_match(&secret, &now_code, t, step), None, "replay");
        let prev = totp_code(&secret, t - 30).unwrap_or_default();
        assert_eq!(totp_match(&secret, &prev, t, 0), Some(step - 1));
        let old = totp_code(&secret, t - 90).unwrap_or_default();
        assert_eq!(totp_match(&secret, &old, t, 0), None, "too old");
        assert_eq!(totp_match(&secret, "12345", t, 0), None);
        assert_eq!(totp_match(&secret, "abcdef", t, 0), None);
        assert_eq!(totp_match("not base32!", "123456", t, 0), None);
    }

    #[test]
    fn clip_keeps_char_boundaries() {
        assert_eq!(clip("ééé", 3), "é");
        assert_eq!(clip("abc", 10), "abc");
    }
}
