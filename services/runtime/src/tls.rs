//! TLS: the flags every server takes (`--tls-cert`, `--tls-key`, and `--tls-client-ca` for
//! mutual TLS), read from PEM files into tonic's configuration for gRPC and into a rustls
//! acceptor ([`HttpTls`]) for an HTTP port that serves data (the query service's routes and
//! console), so that HTTP is never the plaintext side door of a TLS service. An HTTP port
//! with only probes and metrics stays plaintext, for the kubelet and Prometheus.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// TLS flags of a gRPC server.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerTlsArgs {
    /// PEM certificate (chain) to serve gRPC over TLS with; needs --tls-key.
    #[arg(long, env = "PAYMENTS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "PAYMENTS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate: require every client to present a certificate it signed (mutual
    /// TLS). Needs --tls-cert.
    #[arg(long, env = "PAYMENTS_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// A PEM file that cannot be used, named by the flag that gave it.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    /// The file could not be read.
    #[error("{flag} {}", path.display())]
    Read {
        /// The flag that named the file.
        flag: String,
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no PEM block.
    #[error("{flag} {}: not a PEM file", path.display())]
    NotPem {
        /// The flag that named the file.
        flag: String,
        /// The file.
        path: PathBuf,
    },
    /// The PEM blocks are not what the flag needs (no certificate, no private key, a key
    /// that does not match, a CA rustls cannot use).
    #[error("{flag} {}: {reason}", path.display())]
    Unusable {
        /// The flag that named the file.
        flag: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a PEM file, naming the flag and file when it cannot.
pub fn read_pem(flag: &str, path: &Path) -> Result<Vec<u8>, PemError> {
    let pem = std::fs::read(path).map_err(|source| PemError::Read {
        flag: flag.to_owned(),
        path: path.to_owned(),
        source,
    })?;
    if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(PemError::NotPem {
            flag: flag.to_owned(),
            path: path.to_owned(),
        });
    }
    Ok(pem)
}

/// A PEM file given on the command line, with the flag that named it (for errors).
pub type PemFlag<'a> = (&'a str, &'a Path);

/// A client's TLS configuration: trust `ca`, and present `identity` (certificate, key) when
/// the server requires a client certificate.
pub fn client_config(
    ca: PemFlag<'_>,
    identity: Option<(PemFlag<'_>, PemFlag<'_>)>,
) -> Result<ClientTlsConfig, PemError> {
    let mut config =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read_pem(ca.0, ca.1)?));
    if let Some((cert, key)) = identity {
        config = config.identity(Identity::from_pem(
            read_pem(cert.0, cert.1)?,
            read_pem(key.0, key.1)?,
        ));
    }
    Ok(config)
}

impl ServerTlsArgs {
    /// The server's TLS configuration, or `None` to serve plaintext.
    pub fn server_config(&self) -> Result<Option<ServerTlsConfig>, PemError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let identity =
            Identity::from_pem(read_pem("--tls-cert", cert)?, read_pem("--tls-key", key)?);
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.tls_client_ca {
            config = config.client_ca_root(Certificate::from_pem(read_pem("--tls-client-ca", ca)?));
        }
        Ok(Some(config))
    }

    /// The HTTP port's TLS, from the same files as gRPC's, or `None` to serve plaintext.
    /// With `--tls-client-ca` a client certificate is verified when presented, and the data
    /// routes require one ([`HttpTls::requires_client_certificate`]); probes stay reachable
    /// without, as the kubelet presents none.
    pub fn http_tls(&self) -> Result<Option<HttpTls>, PemError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let unusable = |flag: &str, path: &Path, reason: String| PemError::Unusable {
            flag: flag.to_owned(),
            path: path.to_owned(),
            reason,
        };
        let chain = certificates("--tls-cert", cert)?;
        let private_key = PrivateKeyDer::from_pem_slice(&read_pem("--tls-key", key)?)
            .map_err(|e| unusable("--tls-key", key, format!("no private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| unusable("--tls-cert", cert, e.to_string()))?;
        let builder = match &self.tls_client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in certificates("--tls-client-ca", ca)? {
                    roots
                        .add(certificate)
                        .map_err(|e| unusable("--tls-client-ca", ca, e.to_string()))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .allow_unauthenticated()
                .build()
                .map_err(|e| unusable("--tls-client-ca", ca, e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, private_key)
            .map_err(|e| unusable("--tls-key", key, e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(HttpTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            requires_client_certificate: self.tls_client_ca.is_some(),
        }))
    }
}

/// TLS for an HTTP port.
#[derive(Clone)]
pub struct HttpTls {
    /// Handshakes each connection.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Whether data routes require a client certificate signed by `--tls-client-ca`.
    pub requires_client_certificate: bool,
}

/// Whether the client of an HTTP request presented a certificate that `--tls-client-ca`
/// signed, put in each request's extensions by the TLS server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCertificate {
    /// Presented and verified.
    pub verified: bool,
}

/// Every certificate in the PEM file `path` (named by `flag`); none is an error.
fn certificates(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let pem = read_pem(flag, path)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| PemError::Unusable {
            flag: flag.to_owned(),
            path: path.to_owned(),
            reason: format!("unreadable certificate: {e}"),
        })?;
    if chain.is_empty() {
        return Err(PemError::Unusable {
            flag: flag.to_owned(),
            path: path.to_owned(),
            reason: "no certificate".to_owned(),
        });
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_or_non_pem_files_are_named() {
        let args = ServerTlsArgs {
            tls_cert: Some("/nonexistent/cert.pem".into()),
            tls_key: Some("/nonexistent/key.pem".into()),
            tls_client_ca: None,
        };
        let error = args
            .server_config()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(error, "--tls-cert /nonexistent/cert.pem");
        let not_pem = std::env::temp_dir().join(format!("not-pem-{}", std::process::id()));
        let _ = std::fs::write(&not_pem, "hello");
        let error = read_pem("--tls-key", &not_pem)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.ends_with("not a PEM file"), "{error}");
        let _ = std::fs::remove_file(not_pem);
        assert!(
            ServerTlsArgs::default()
                .server_config()
                .ok()
                .flatten()
                .is_none()
        );
    }
}
