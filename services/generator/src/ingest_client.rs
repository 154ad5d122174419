//! How the generator reaches a remote IngestService for runs with an `ingest_target`: the
//! targets it may reach at all, a bearer token and TLS (optionally with a client
//! certificate), from its command line.

use payments_ingest::{AllowedTargets, IngestConnection};
use std::path::PathBuf;

/// Flags for the generator's connections to ingest.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IngestClientArgs {
    /// An IngestService (`host:port`) runs may name as their `ingest_target` (repeatable,
    /// or comma-separated). Only these, and --traffic-default-target, are reached: a run
    /// naming any other is refused with PERMISSION_DENIED before anything is sent, so the
    /// --ingest-token never leaves for a host the operator did not name.
    #[arg(long, env = "PAYMENTS_ALLOW_INGEST_TARGETS", value_delimiter = ',')]
    pub allow_ingest_target: Vec<String>,
    /// Bearer token sent to ingest targets started with `--auth-tokens-file`.
    #[arg(long, env = "PAYMENTS_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<String>,
    /// PEM CA certificate to verify TLS ingest targets with (connects over TLS).
    #[arg(long, env = "PAYMENTS_INGEST_TLS_CA")]
    pub ingest_tls_ca: Option<PathBuf>,
    /// PEM client certificate for ingest targets that require one; needs --ingest-tls-key.
    #[arg(
        long,
        env = "PAYMENTS_INGEST_TLS_CERT",
        requires = "ingest_tls_key",
        requires = "ingest_tls_ca"
    )]
    pub ingest_tls_cert: Option<PathBuf>,
    /// PEM private key of --ingest-tls-cert.
    #[arg(long, env = "PAYMENTS_INGEST_TLS_KEY", requires = "ingest_tls_cert")]
    pub ingest_tls_key: Option<PathBuf>,
}

/// A flag of [`IngestClientArgs`] that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IngestClientError {
    /// The token cannot travel in a header.
    #[error("--ingest-token")]
    Token(#[from] payments_runtime::auth::TokenError),
    /// A TLS file cannot be used.
    #[error(transparent)]
    Tls(#[from] payments_runtime::tls::PemError),
}

impl IngestClientArgs {
    /// The connection settings these flags describe, allowing `default_target` besides
    /// the `--allow-ingest-target`s, or which flag is wrong.
    pub fn connection(
        &self,
        default_target: Option<&str>,
    ) -> Result<IngestConnection, IngestClientError> {
        let authorization = self
            .ingest_token
            .as_deref()
            .map(payments_runtime::auth::bearer_header)
            .transpose()?;
        let identity = self
            .ingest_tls_cert
            .as_deref()
            .zip(self.ingest_tls_key.as_deref())
            .map(|(cert, key)| (("--ingest-tls-cert", cert), ("--ingest-tls-key", key)));
        let tls = self
            .ingest_tls_ca
            .as_deref()
            .map(|ca| payments_runtime::tls::client_config(("--ingest-tls-ca", ca), identity))
            .transpose()?;
        let allowed =
            AllowedTargets::new(&self.allow_ingest_target).with(default_target.unwrap_or_default());
        Ok(IngestConnection {
            authorization,
            tls,
            allowed,
        })
    }
}
