//! TLS for gRPC: the flags every server takes (`--tls-cert`, `--tls-key`, and
//! `--tls-client-ca` for mutual TLS), read from PEM files into tonic's configuration. The
//! HTTP port (probes, metrics) stays plain.

use std::path::{Path, PathBuf};
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
