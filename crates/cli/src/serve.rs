//! `portcullis serve`: the multi-tenant web service.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use portcullis_server::{AppState, Config, NotifyConfig, OidcConfig, SmtpConfig, Store};

use crate::cli::Global;
use crate::ui::Ui;
use crate::{Failure, EXIT_OK};

/// Options of `portcullis serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The directory for the embedded database [default: the user data directory's `portcullis/`].
    #[arg(long, env = "PORTCULLIS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (`postgres://user:password@host/db`) instead of the embedded SQLite database.
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The public base URL, used in links in notifications and for single sign-on.
    #[arg(
        long,
        env = "PORTCULLIS_BASE_URL",
        value_name = "URL",
        default_value = ""
    )]
    pub base_url: String,
    /// The first site admin's e-mail address (used only when the service has no users yet).
    #[arg(
        long,
        env = "PORTCULLIS_ADMIN_EMAIL",
        default_value = "admin@localhost"
    )]
    pub admin_email: String,
    /// POST every notification as JSON to this URL (repeatable).
    #[arg(
        long = "webhook",
        env = "PORTCULLIS_WEBHOOKS",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub webhooks: Vec<String>,
    /// An SMTP relay for e-mail notifications, `host:port`.
    #[arg(long, env = "PORTCULLIS_SMTP", value_name = "HOST:PORT")]
    pub smtp: Option<String>,
    /// The sender address of e-mail notifications.
    #[arg(
        long,
        env = "PORTCULLIS_SMTP_FROM",
        default_value = "portcullis@localhost"
    )]
    pub smtp_from: String,
    /// Recipients of e-mail notifications (repeatable).
    #[arg(
        long = "smtp-to",
        env = "PORTCULLIS_SMTP_TO",
        value_delimiter = ',',
        value_name = "ADDRESS"
    )]
    pub smtp_to: Vec<String>,
    /// Believe the last address of `X-Forwarded-For` as the client's (for
    /// the sign-in limits). Only behind a reverse proxy that sets it; by
    /// default only the connection's own address is used.
    #[arg(long, env = "PORTCULLIS_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Single sign-on: the OpenID Connect issuer URL (https://). Needs
    /// --base-url, --oidc-client-id and PORTCULLIS_OIDC_CLIENT_SECRET; users
    /// sign in by their verified e-mail address to an existing account.
    #[arg(long, env = "PORTCULLIS_OIDC_ISSUER", value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// Single sign-on: the client ID registered with the provider.
    #[arg(long, env = "PORTCULLIS_OIDC_CLIENT_ID", value_name = "ID")]
    pub oidc_client_id: Option<String>,
}

fn oidc_config(a: &ServeArgs) -> Result<Option<OidcConfig>, Failure> {
    let Some(issuer) = a.oidc_issuer.as_deref().filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    let client_id = a
        .oidc_client_id
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Failure::usage("--oidc-issuer needs --oidc-client-id"))?;
    let client_secret = std::env::var("PORTCULLIS_OIDC_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Failure::usage("--oidc-issuer needs the client secret in PORTCULLIS_OIDC_CLIENT_SECRET")
        })?;
    if a.base_url.is_empty() {
        return Err(Failure::usage(
            "--oidc-issuer needs --base-url (the provider sends users back to BASE_URL/login/oidc/callback)",
        ));
    }
    Ok(Some(OidcConfig {
        issuer: issuer.trim_end_matches('/').to_owned(),
        client_id,
        client_secret,
    }))
}

fn default_data_dir() -> PathBuf {
    portcullis_vulndb::default_db_path()
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn random_password() -> Result<String, Failure> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes)
        .map_err(|e| Failure::usage(format!("no system randomness for the admin password: {e}")))?;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

fn smtp_config(a: &ServeArgs) -> Result<Option<SmtpConfig>, Failure> {
    let Some(relay) = &a.smtp else {
        return Ok(None);
    };
    let (host, port) = match relay.rsplit_once(':') {
        Some((h, p)) => (
            h.to_owned(),
            p.parse::<u16>().map_err(|_| {
                Failure::usage(format!(
                    "--smtp {relay}: the port is not a number; write host:port, e.g. mail.example.org:587"
                ))
            })?,
        ),
        None => (relay.clone(), 25),
    };
    let credentials = match (
        std::env::var("PORTCULLIS_SMTP_USER"),
        std::env::var("PORTCULLIS_SMTP_PASSWORD"),
    ) {
        (Ok(u), Ok(p)) if !u.is_empty() => Some((u, p)),
        _ => None,
    };
    Ok(Some(SmtpConfig {
        host,
        port,
        from: a.smtp_from.clone(),
        to: a.smtp_to.clone(),
        credentials,
    }))
}

/// Runs `portcullis serve` until Ctrl-C or SIGTERM.
pub fn run_serve(_ui: &Ui, _g: &Global, a: &ServeArgs) -> Result<u8, Failure> {
    let url = match &a.database_url {
        Some(u) if !u.is_empty() => u.clone(),
        _ => {
            let dir = a.data_dir.clone().unwrap_or_else(default_data_dir);
            std::fs::create_dir_all(&dir).map_err(|e| {
                Failure::usage(format!(
                    "{}: cannot create the data directory: {e}; choose another with --data-dir",
                    dir.display()
                ))
            })?;
            dir.join("portcullis-server.db")
                .to_string_lossy()
                .into_owned()
        }
    };
    let config = Config {
        base_url: a.base_url.trim_end_matches('/').to_owned(),
        notify: NotifyConfig {
            webhooks: a.webhooks.clone(),
            smtp: smtp_config(a)?,
        },
        oidc: oidc_config(a)?,
        trust_proxy: a.trust_proxy,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let shown = if url.starts_with("postgres") {
            "PostgreSQL".to_owned()
        } else {
            url.clone()
        };
        let store = Store::open(&url).await.map_err(|e| {
            Failure::usage(format!("{shown}: cannot open the database: {e}"))
        })?;
        let (password, from_env) = match std::env::var("PORTCULLIS_ADMIN_PASSWORD") {
            Ok(p) if !p.is_empty() => (p, true),
            _ => (random_password()?, false),
        };
        let created = store
            .bootstrap_site_admin("Cyber unit", &a.admin_email, &password)
            .await
            .map_err(|e| Failure::usage(format!("cannot create the first site admin: {e}")))?;
        if created {
            // A generated password is shown once, on the terminal that
            // started the service; one from the environment is never echoed.
            let shown_password = if from_env {
                "from PORTCULLIS_ADMIN_PASSWORD".to_owned()
            } else {
                password.clone()
            };
            eprintln!(
                "first start: created site admin {} with password {shown_password}\n  sign in at /login and set up two-factor authentication (required for administrators)",
                a.admin_email
            );
        }
        let listener = tokio::net::TcpListener::bind(a.listen).await.map_err(|e| {
            Failure::usage(format!(
                "{}: cannot listen: {e}; choose another address with --listen",
                a.listen
            ))
        })?;
        let bound = listener.local_addr().map_or(a.listen, |x| x);
        // Always printed (tests and scripts read the bound port from it).
        eprintln!("listening on http://{bound} (database: {shown}); Ctrl-C to stop");
        portcullis_server::serve(
            listener,
            AppState::with_config(store, config),
            portcullis_server::shutdown_signal(),
        )
        .await
        .map_err(|e| Failure::usage(format!("the server stopped: {e}")))?;
        Ok(EXIT_OK)
    })
}
