//! The store: every read and write of tenant data, each taking a [`Tenant`].
//!
//! Invariant: no public function here reads or writes an organisation's data
//! without a [`Tenant`] scope, and every SQL statement that touches tenant
//! tables filters by the scope's organisation (or is an `All` scope, which
//! only the cyber unit's roles can hold). Authentication functions
//! ([`Store::login`], [`Store::enrol`], [`Store::authenticate_host`]) take a
//! secret instead and *produce* the scope.

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{migrate, Db, Row, Value};

mod auth;
pub use auth::{otpauth_uri, role_requires_mfa, totp_code, SessionInfo, SessionStage, UserInfo};
mod certification;
mod findings;
pub use findings::{
    parse_rfc3339, rate, AssetKind, AssetRef, AssetSummary, DetectionRow, FailingCheck, Hit,
    OrgDetail, OrgRisk, PackageOnAsset, Rating, Readiness, RiskLevel, SearchGroup, TrendPoint,
    VulnerablePackage, CONTROLS, MAX_ASSET_NAME, SEARCH_LIMIT, STALE_AFTER, TREND_WEEKS,
};
pub mod incidents;
pub mod outbox;
use crate::{now, Role, Sector, StoreError, SubmissionKind};

/// An organisation's ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct OrgId(pub i64);

/// The scope of a request: one organisation, or (for the cyber unit's
/// analysts and site admins only) all of them. It can only be built from a
/// role, so a member can never hold the `All` scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant(Scope);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Org(OrgId),
    All,
}

impl Tenant {
    /// The scope a user of `role` in organisation `org` acts in.
    pub fn for_role(org: OrgId, role: Role) -> Tenant {
        match role {
            Role::Analyst | Role::SiteAdmin => Tenant(Scope::All),
            Role::Member | Role::OrgAdmin | Role::Assessor => Tenant(Scope::Org(org)),
        }
    }

    /// The organisation this scope is limited to, or `None` for all.
    pub fn org(&self) -> Option<OrgId> {
        match self.0 {
            Scope::Org(o) => Some(o),
            Scope::All => None,
        }
    }

    /// True when the scope covers `org`.
    pub fn covers(&self, org: OrgId) -> bool {
        match self.0 {
            Scope::Org(o) => o == org,
            Scope::All => true,
        }
    }

    fn require(&self, org: OrgId) -> Result<(), StoreError> {
        if self.covers(org) {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    fn require_all(&self) -> Result<(), StoreError> {
        match self.0 {
            Scope::All => Ok(()),
            Scope::Org(_) => Err(StoreError::Forbidden),
        }
    }

    /// The SQL filter value: the org ID, or NULL for all (`($1 IS NULL OR org_id = $1)`).
    fn filter(&self) -> Value {
        match self.0 {
            Scope::Org(o) => Value::Int(o.0),
            Scope::All => Value::Null,
        }
    }
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// Its ID.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Its sector.
    pub sector: Sector,
    /// Its size (staff).
    pub size: i64,
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its ID.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// Its e-mail address.
    pub email: String,
    /// Its role.
    pub role: Role,
}

impl User {
    /// The scope this user acts in.
    pub fn tenant(&self) -> Tenant {
        Tenant::for_role(self.org, self.role)
    }
}

/// A machine authenticated by its host token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIdentity {
    /// The organisation the host belongs to (its only scope).
    pub tenant: Tenant,
    /// The host's name, fixed at enrolment.
    pub host: String,
    /// The host token's ID.
    pub token_id: i64,
}

/// An API token's public record (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Its ID.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// `enrolment` or `host`.
    pub kind: String,
    /// Its host, for host tokens.
    pub host: Option<String>,
    /// Its label.
    pub label: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// A new submission, already validated.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// Its kind.
    pub kind: SubmissionKind,
    /// The client-chosen idempotency ID.
    pub client_id: String,
    /// The JSON body, as text.
    pub body: String,
}

/// A stored submission's receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// Its ID.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// Its host.
    pub host: String,
    /// Its kind.
    pub kind: SubmissionKind,
    /// The client-chosen idempotency ID.
    pub client_id: String,
    /// When it was received (Unix seconds).
    pub received_at: i64,
}

/// An asset (a host; projects later) of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asset {
    /// Its ID.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// Its name (the host name it enrolled with).
    pub name: String,
    /// Its first submission (Unix seconds).
    pub first_seen: i64,
    /// Its latest submission (Unix seconds).
    pub last_seen: i64,
    /// Its current state: the latest submission ID of each kind it has sent.
    pub current: Vec<(SubmissionKind, i64)>,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When (Unix seconds).
    pub at: i64,
    /// The organisation concerned, if any.
    pub org: Option<OrgId>,
    /// Who: `user:<email>`, `host:<name>`, `token:<id>` or `system`.
    pub actor: String,
    /// What (`login.ok`, `token.create`, `submission.create`…).
    pub action: String,
    /// Details.
    pub detail: String,
}

/// How long a session lasts.
const SESSION_SECONDS: i64 = 12 * 60 * 60;

/// The service's storage.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

fn random_token(prefix: &str) -> Result<String, StoreError> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}{}", hex(&buf)))
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// SHA-256 of a token, hex. Tokens are 256 random bits, so a fast hash is
/// enough (unlike passwords, they cannot be guessed from a dictionary).
pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn org_from_row(r: &Row) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: OrgId(r.int(0)?),
        name: r.text(1)?,
        sector: Sector::parse(&r.text(2)?)
            .ok_or_else(|| StoreError::Corrupt("bad sector".into()))?,
        size: r.int(3)?,
    })
}

fn receipt_from_row(r: &Row) -> Result<Receipt, StoreError> {
    Ok(Receipt {
        id: r.int(0)?,
        org: OrgId(r.int(1)?),
        host: r.text(2)?,
        kind: SubmissionKind::parse(&r.text(3)?)
            .ok_or_else(|| StoreError::Corrupt("bad kind".into()))?,
        client_id: r.text(4)?,
        received_at: r.int(5)?,
    })
}

impl Store {
    /// Opens a database by URL: `postgres://…`/`postgresql://…`, or
    /// `sqlite:PATH` / a plain file path for SQLite. Applies migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Db::open_postgres(url).await?
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            Db::open_sqlite(Path::new(path).to_path_buf()).await?
        };
        migrate(&db).await?;
        Ok(Store { db })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.query("SELECT 1", vec![]).await.map(|_| ())
    }

    /// Creates an organisation. Only an `All` scope (site admin, analyst) may.
    pub async fn create_organisation(
        &self,
        scope: &Tenant,
        name: &str,
        sector: Sector,
        size: i64,
    ) -> Result<OrgId, StoreError> {
        self.create_organisation_as(scope, "system", name, sector, size)
            .await
    }

    /// [`Store::create_organisation`], audited as done by `actor`
    /// (`user:<email>`).
    pub async fn create_organisation_as(
        &self,
        scope: &Tenant,
        actor: &str,
        name: &str,
        sector: Sector,
        size: i64,
    ) -> Result<OrgId, StoreError> {
        scope.require_all()?;
        if name.trim().is_empty() || size < 0 {
            return Err(StoreError::Invalid(
                "an organisation needs a name and a size of 0 or more".into(),
            ));
        }
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "INSERT INTO organisations (name, sector, size, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                vec![name.into(), sector.as_str().into(), size.into(), now().into()],
            )
            .await
            .map_err(|e| e.conflict_as("an organisation of that name exists"))?;
        let id = OrgId(rows.first().ok_or(StoreError::NotFound)?.int(0)?);
        audit(&mut tx, Some(id), actor, "organisation.create", name).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// First start: when the service has no users at all, creates the cyber
    /// unit's organisation and its first site admin, and returns `true`.
    /// With any user present it changes nothing and returns `false`, so it
    /// is safe to call on every start (also from several processes: the
    /// unique e-mail and organisation name make a second insert fail, which
    /// is reported as `false`).
    pub async fn bootstrap_site_admin(
        &self,
        org_name: &str,
        email: &str,
        password: &str,
    ) -> Result<bool, StoreError> {
        let rows = self.db.query("SELECT COUNT(*) FROM users", vec![]).await?;
        if rows.first().ok_or(StoreError::NotFound)?.int(0)? > 0 {
            return Ok(false);
        }
        let all = Tenant(Scope::All);
        let org = match self
            .create_organisation(&all, org_name, Sector::CentralGovernment, 0)
            .await
        {
            Ok(org) => org,
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        match self
            .create_user(&all, org, email, password, Role::SiteAdmin)
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The organisations in scope, by name.
    pub async fn list_organisations(
        &self,
        scope: &Tenant,
    ) -> Result<Vec<Organisation>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, name, sector, size FROM organisations WHERE ($1 IS NULL OR id = $1) ORDER BY name",
                vec![scope.filter()],
            )
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    /// Creates a user in `org`. The scope must cover `org`; only an `All`
    /// scope may create analysts and site admins.
    pub async fn create_user(
        &self,
        scope: &Tenant,
        org: OrgId,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<i64, StoreError> {
        self.create_user_as(scope, "system", org, email, password, role)
            .await
    }

    /// [`Store::create_user`], audited as done by `actor` (`user:<email>`).
    pub async fn create_user_as(
        &self,
        scope: &Tenant,
        actor: &str,
        org: OrgId,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<i64, StoreError> {
        scope.require(org)?;
        if matches!(role, Role::Analyst | Role::SiteAdmin) {
            scope.require_all()?;
        }
        let email = email.trim().to_ascii_lowercase();
        if !email.contains('@') || email.len() > 320 || password.len() < 12 || password.len() > 1024
        {
            return Err(StoreError::Invalid(
                "a user needs an e-mail address and a password of 12 characters or more".into(),
            ));
        }
        let pw = password.to_owned();
        // Argon2 is deliberately slow: keep it off the async worker threads.
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw)).await??;
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "INSERT INTO users (org_id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                vec![org.0.into(), email.as_str().into(), hash.into(), role.as_str().into(), now().into()],
            )
            .await
            .map_err(|e| e.conflict_as("a user with that e-mail address exists"))?;
        let id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "user.create",
            &format!("{email} as {}", role.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Checks a password. Counts failures, locks the account for 15 minutes
    /// after 5 in a row, and audits every attempt. Unknown e-mail, wrong
    /// password and locked account all return `Ok(None)`. The source address
    /// is unknown here: see [`Store::login_from`] for the per-address limits.
    pub async fn login(&self, email: &str, password: &str) -> Result<Option<User>, StoreError> {
        self.login_from(email, password, None).await
    }

    /// Starts a session for a signed-in user; returns its secret (for the
    /// cookie). Only the SHA-256 is stored. The session is in the stage
    /// [`Store::start_session`] gives (a second factor or MFA set-up may be
    /// due first); full sessions last 12 hours.
    pub async fn create_session(&self, user: &User) -> Result<String, StoreError> {
        self.start_session(user, None)
            .await
            .map(|(secret, _)| secret)
    }

    /// The user a session secret belongs to, if it exists, has not expired,
    /// is fully signed in (stage `full`) and the user is not disabled.
    pub async fn session_user(&self, secret: &str) -> Result<User, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT u.id, u.org_id, u.email, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.stage = 'full' AND u.disabled_at IS NULL",
                vec![token_hash(secret).into(), now().into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::Unauthorized)?;
        Ok(User {
            id: r.int(0)?,
            org: OrgId(r.int(1)?),
            email: r.text(2)?,
            role: Role::parse(&r.text(3)?).ok_or_else(|| StoreError::Corrupt("bad role".into()))?,
        })
    }

    /// Ends a session (sign-out). Unknown secrets are ignored.
    pub async fn end_session(&self, secret: &str) -> Result<(), StoreError> {
        self.db
            .query(
                "DELETE FROM sessions WHERE token_hash = $1",
                vec![token_hash(secret).into()],
            )
            .await
            .map(|_| ())
    }

    /// Creates an enrolment token for `org`; returns (token ID, secret). The
    /// secret is shown once: only its SHA-256 is stored.
    pub async fn create_enrolment_token(
        &self,
        scope: &Tenant,
        org: OrgId,
        label: &str,
    ) -> Result<(i64, String), StoreError> {
        self.create_enrolment_token_as(scope, "system", org, label)
            .await
    }

    /// [`Store::create_enrolment_token`], audited as done by `actor`.
    pub async fn create_enrolment_token_as(
        &self,
        scope: &Tenant,
        actor: &str,
        org: OrgId,
        label: &str,
    ) -> Result<(i64, String), StoreError> {
        scope.require(org)?;
        if label.trim().is_empty() || label.len() > 200 || label.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "a token needs a label of 1 to 200 printable characters".into(),
            ));
        }
        let secret = random_token("pce_")?;
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "INSERT INTO api_tokens (org_id, kind, token_hash, label, created_at) VALUES ($1, 'enrolment', $2, $3, $4) RETURNING id",
                vec![org.0.into(), token_hash(&secret).into(), label.into(), now().into()],
            )
            .await?;
        let id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "token.create",
            &format!("enrolment token {id} ({label})"),
        )
        .await?;
        tx.commit().await?;
        Ok((id, secret))
    }

    /// Exchanges an enrolment token for a new host token for `host`; returns
    /// the host token's secret (shown once). `Unauthorized` for an unknown,
    /// revoked or non-enrolment token.
    pub async fn enrol(
        &self,
        enrolment_token: &str,
        host: &str,
    ) -> Result<(HostIdentity, String), StoreError> {
        let host = host.trim();
        if host.is_empty() || host.len() > 255 || host.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "host must be 1 to 255 printable characters".into(),
            ));
        }
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "SELECT id, org_id FROM api_tokens WHERE token_hash = $1 AND kind = 'enrolment' AND revoked_at IS NULL",
                vec![token_hash(enrolment_token).into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::Unauthorized)?;
        let (enrol_id, org) = (r.int(0)?, OrgId(r.int(1)?));
        let secret = random_token("pch_")?;
        let rows = tx
            .query(
                "INSERT INTO api_tokens (org_id, kind, token_hash, host, label, created_at) VALUES ($1, 'host', $2, $3, $4, $5) RETURNING id",
                vec![
                    org.0.into(),
                    token_hash(&secret).into(),
                    host.into(),
                    format!("enrolled with token {enrol_id}").into(),
                    now().into(),
                ],
            )
            .await?;
        let id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        audit(
            &mut tx,
            Some(org),
            &format!("token:{enrol_id}"),
            "host.enrol",
            &format!("host {host}, token {id}"),
        )
        .await?;
        tx.commit().await?;
        Ok((
            HostIdentity {
                tenant: Tenant(Scope::Org(org)),
                host: host.to_owned(),
                token_id: id,
            },
            secret,
        ))
    }

    /// The host a host token belongs to, if it is valid and not revoked.
    pub async fn authenticate_host(&self, token: &str) -> Result<HostIdentity, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, org_id, host FROM api_tokens WHERE token_hash = $1 AND kind = 'host' AND revoked_at IS NULL",
                vec![token_hash(token).into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::Unauthorized)?;
        Ok(HostIdentity {
            token_id: r.int(0)?,
            tenant: Tenant(Scope::Org(OrgId(r.int(1)?))),
            host: r.opt_text(2)?.unwrap_or_default(),
        })
    }

    /// The API tokens in scope.
    pub async fn list_tokens(&self, scope: &Tenant) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, org_id, kind, host, label, revoked_at FROM api_tokens WHERE ($1 IS NULL OR org_id = $1) ORDER BY id",
                vec![scope.filter()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.int(0)?,
                    org: OrgId(r.int(1)?),
                    kind: r.text(2)?,
                    host: r.opt_text(3)?,
                    label: r.text(4)?,
                    revoked_at: r.opt_int(5)?,
                })
            })
            .collect()
    }

    /// Revokes a token. `NotFound` when it is not in scope (a token of
    /// another organisation is indistinguishable from a missing one).
    pub async fn revoke_token(&self, scope: &Tenant, token_id: i64) -> Result<(), StoreError> {
        self.revoke_token_as(scope, "system", token_id).await
    }

    /// [`Store::revoke_token`], audited as done by `actor`.
    pub async fn revoke_token_as(
        &self,
        scope: &Tenant,
        actor: &str,
        token_id: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND ($3 IS NULL OR org_id = $3) AND revoked_at IS NULL RETURNING org_id",
                vec![now().into(), token_id.into(), scope.filter()],
            )
            .await?;
        let org = OrgId(rows.first().ok_or(StoreError::NotFound)?.int(0)?);
        audit(
            &mut tx,
            Some(org),
            actor,
            "token.revoke",
            &format!("token {token_id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a submission from a host about the host itself. Idempotent on
    /// (organisation, client ID): a resend returns the original receipt and
    /// `false`. A resend with the same ID but a different body or kind is a
    /// `Conflict`. See [`Store::submit_for`].
    pub async fn submit(
        &self,
        from: &HostIdentity,
        sub: &NewSubmission,
    ) -> Result<(Receipt, bool), StoreError> {
        let asset = AssetRef {
            kind: AssetKind::Host,
            name: from.host.clone(),
        };
        self.submit_for(from, &asset, sub).await
    }

    /// Stores a submission about `asset`: the host itself, or a project of
    /// the host's organisation (a CI job submitting a scan or practice
    /// report of a repository). A host token may not submit for another
    /// host (`Forbidden`). In the same transaction the body's findings,
    /// checks, detections or components replace the asset's current ones
    /// of that kind and the organisation's summary is recomputed, so a
    /// receipt means all of it is stored. Idempotent as [`Store::submit`];
    /// a resend naming another asset is a `Conflict`.
    pub async fn submit_for(
        &self,
        from: &HostIdentity,
        asset: &AssetRef,
        sub: &NewSubmission,
    ) -> Result<(Receipt, bool), StoreError> {
        let org = from.tenant.org().ok_or(StoreError::Forbidden)?;
        findings::check_asset_name(&asset.name)?;
        if asset.kind == AssetKind::Host && asset.name != from.host {
            return Err(StoreError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "INSERT INTO submissions (org_id, host, kind, client_id, token_id, received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (org_id, client_id) DO NOTHING \
                 RETURNING id, org_id, host, kind, client_id, received_at",
                vec![
                    org.0.into(),
                    asset.name.as_str().into(),
                    sub.kind.as_str().into(),
                    sub.client_id.as_str().into(),
                    from.token_id.into(),
                    now().into(),
                    sub.body.as_str().into(),
                ],
            )
            .await?;
        if let Some(r) = rows.first() {
            let receipt = receipt_from_row(r)?;
            let asset_id = findings::upsert_asset(&mut tx, org, asset, receipt.received_at).await?;
            findings::extract(
                &mut tx,
                org,
                asset_id,
                sub.kind,
                &sub.body,
                receipt.received_at,
            )
            .await?;
            audit(
                &mut tx,
                Some(org),
                &format!("host:{}", from.host),
                "submission.create",
                &format!(
                    "{} {} for {} {} ({})",
                    sub.kind.as_str(),
                    receipt.id,
                    asset.kind.as_str(),
                    asset.name,
                    sub.client_id
                ),
            )
            .await?;
            tx.commit().await?;
            return Ok((receipt, true));
        }
        let rows = tx
            .query(
                "SELECT id, org_id, host, kind, client_id, received_at, body FROM submissions WHERE org_id = $1 AND client_id = $2",
                vec![org.0.into(), sub.client_id.as_str().into()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        let receipt = receipt_from_row(r)?;
        if receipt.kind != sub.kind || receipt.host != asset.name || r.text(6)? != sub.body {
            return Err(StoreError::Conflict(
                "this idempotency key was already used for a different submission".into(),
            ));
        }
        tx.commit().await?;
        Ok((receipt, false))
    }

    /// The newest submissions in scope (at most `limit`, capped at 1000).
    pub async fn list_submissions(
        &self,
        scope: &Tenant,
        limit: i64,
    ) -> Result<Vec<Receipt>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, org_id, host, kind, client_id, received_at FROM submissions WHERE ($1 IS NULL OR org_id = $1) ORDER BY id DESC LIMIT $2",
                vec![scope.filter(), limit.clamp(0, 1000).into()],
            )
            .await?;
        rows.iter().map(receipt_from_row).collect()
    }

    /// One submission's receipt and body, if it is in scope.
    pub async fn get_submission(
        &self,
        scope: &Tenant,
        id: i64,
    ) -> Result<(Receipt, String), StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, org_id, host, kind, client_id, received_at, body FROM submissions WHERE id = $1 AND ($2 IS NULL OR org_id = $2)",
                vec![id.into(), scope.filter()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        Ok((receipt_from_row(r)?, r.text(6)?))
    }

    /// The assets (hosts) in scope, by organisation and name, each with its
    /// current state: the latest submission of each kind.
    pub async fn list_assets(&self, scope: &Tenant) -> Result<Vec<Asset>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, org_id, name, first_seen, last_seen FROM assets WHERE ($1 IS NULL OR org_id = $1) ORDER BY org_id, name",
                vec![scope.filter()],
            )
            .await?;
        let mut assets = rows
            .iter()
            .map(|r| {
                Ok(Asset {
                    id: r.int(0)?,
                    org: OrgId(r.int(1)?),
                    name: r.text(2)?,
                    first_seen: r.int(3)?,
                    last_seen: r.int(4)?,
                    current: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let latest = self
            .db
            .query(
                "SELECT org_id, host, kind, MAX(id) FROM submissions WHERE ($1 IS NULL OR org_id = $1) \
                 GROUP BY org_id, host, kind ORDER BY org_id, host, kind",
                vec![scope.filter()],
            )
            .await?;
        for r in &latest {
            let (org, host) = (OrgId(r.int(0)?), r.text(1)?);
            let kind = SubmissionKind::parse(&r.text(2)?)
                .ok_or_else(|| StoreError::Corrupt("bad kind".into()))?;
            if let Some(a) = assets.iter_mut().find(|a| a.org == org && a.name == host) {
                a.current.push((kind, r.int(3)?));
            }
        }
        Ok(assets)
    }

    /// An asset's history of one kind, newest first (at most `limit`, capped
    /// at 1000). `NotFound` when the asset is not in scope.
    pub async fn asset_history(
        &self,
        scope: &Tenant,
        asset_id: i64,
        kind: SubmissionKind,
        limit: i64,
    ) -> Result<Vec<Receipt>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT s.id, s.org_id, s.host, s.kind, s.client_id, s.received_at FROM assets a \
                 JOIN submissions s ON s.org_id = a.org_id AND s.host = a.name \
                 WHERE a.id = $1 AND ($2 IS NULL OR a.org_id = $2) AND s.kind = $3 ORDER BY s.id DESC LIMIT $4",
                vec![asset_id.into(), scope.filter(), kind.as_str().into(), limit.clamp(0, 1000).into()],
            )
            .await?;
        if rows.is_empty() {
            // Distinguish "no history" from "not yours / no such asset".
            let found = self
                .db
                .query(
                    "SELECT id FROM assets WHERE id = $1 AND ($2 IS NULL OR org_id = $2)",
                    vec![asset_id.into(), scope.filter()],
                )
                .await?;
            if found.is_empty() {
                return Err(StoreError::NotFound);
            }
        }
        rows.iter().map(receipt_from_row).collect()
    }

    /// The newest audit entries in scope (at most `limit`, capped at 1000).
    /// Entries without an organisation (unknown-user logins) are for `All` scopes only.
    pub async fn list_audit(
        &self,
        scope: &Tenant,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT at, org_id, actor, action, detail FROM audit_log WHERE ($1 IS NULL OR org_id = $1) ORDER BY id DESC LIMIT $2",
                vec![scope.filter(), limit.clamp(0, 1000).into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.int(0)?,
                    org: r.opt_int(1)?.map(OrgId),
                    actor: r.text(2)?,
                    action: r.text(3)?,
                    detail: r.text(4)?,
                })
            })
            .collect()
    }
}

async fn audit(
    tx: &mut crate::db::Tx,
    org: Option<OrgId>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    tx.query(
        "INSERT INTO audit_log (at, org_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
        vec![
            now().into(),
            org.map(|o| o.0).into(),
            actor.into(),
            action.into(),
            detail.into(),
        ],
    )
    .await
    .map(|_| ())
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Argon2::default() is Argon2id v19 with the OWASP-recommended parameters.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Verifies on the blocking pool: Argon2 is deliberately slow.
async fn verify_blocking(hash: String, password: &str) -> Result<bool, StoreError> {
    let pw = password.to_owned();
    Ok(tokio::task::spawn_blocking(move || verify_password(&hash, &pw)).await?)
}

/// An Argon2id hash of nothing in particular, made once, for timing parity.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("portcullis timing parity").unwrap_or_default())
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}
