//! How a `serve` process is configured (from the command line and the
//! environment; see `portcullis serve --help`).

/// The service's configuration. `Default` is right for tests and for a
/// single machine on loopback.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The public base URL, e.g. `https://portcullis.example.gov.uk`, used
    /// for links in notifications and for the OIDC redirect. Empty: links
    /// are relative.
    pub base_url: String,
    /// Notification delivery (webhooks, SMTP).
    pub notify: NotifyConfig,
    /// OpenID Connect single sign-on, when configured.
    pub oidc: Option<OidcConfig>,
    /// Whether a reverse proxy in front of the service may be believed
    /// about the client's address: when true, the last address of the
    /// `X-Forwarded-For` header is used for the sign-in limits; when false
    /// (the default) only the socket's peer address is.
    pub trust_proxy: bool,
}

/// Where notifications from the outbox go.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// Webhook URLs: each notification is POSTed to each as JSON.
    pub webhooks: Vec<String>,
    /// An SMTP relay for e-mail.
    pub smtp: Option<SmtpConfig>,
}

/// An SMTP relay.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name.
    pub host: String,
    /// Port (25, 587 or 465).
    pub port: u16,
    /// The sender address.
    pub from: String,
    /// Recipients of every notification (the cyber unit's mailbox).
    pub to: Vec<String>,
    /// Credentials, if the relay needs them.
    pub credentials: Option<(String, String)>,
}

/// An OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL (its `/.well-known/openid-configuration` is read).
    pub issuer: String,
    /// The client ID registered with the provider.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}
