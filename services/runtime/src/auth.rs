//! Bearer-token authentication for gRPC servers: with tokens configured, every call but
//! health and reflection needs `authorization: Bearer <token>` naming one of them, else it
//! is refused with `UNAUTHENTICATED` before it reaches the service. Only the SHA-256 digest
//! of each token is kept; a presented token is hashed and compared with every digest in
//! constant time, so neither a token's bytes nor its length show in how long a check takes.
//! Tokens are never logged.

use crate::grpc_gate::Gate;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// One accepted token and what it may do.
#[derive(Clone)]
struct Token {
    digest: [u8; 32],
    caller: Caller,
}

/// The SHA-256 digest of a token.
fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// What the caller of an admitted call may see, put in the request's extensions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller {
    /// Whether full account numbers and IBANs may be returned to it (scope
    /// `reveal-accounts` on its token's line).
    pub reveal_accounts: bool,
}

/// Why a bearer-token file or token cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read.
    #[error("reading bearer tokens from {}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A line names a scope no token can have.
    #[error("{} line {line}: unknown scope {scope:?} (known: reveal-accounts)", path.display())]
    UnknownScope {
        /// The file.
        path: std::path::PathBuf,
        /// The 1-based line.
        line: usize,
        /// The scope as written.
        scope: String,
    },
    /// The file lists no token (authentication would be on, with no way in).
    #[error("{} holds no bearer token", path.display())]
    Empty {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A token that cannot travel in an HTTP header.
    #[error("a bearer token must be printable ASCII")]
    NotAscii,
}

/// The tokens a server accepts.
#[derive(Clone)]
pub struct BearerTokens(Arc<Vec<Token>>);

impl std::fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BearerTokens({} tokens)", self.0.len())
    }
}

impl BearerTokens {
    /// The tokens in `path`, when one is given; see [`BearerTokens::from_file`].
    pub fn load(path: Option<&Path>) -> Result<Option<Self>, TokenError> {
        path.map(Self::from_file).transpose()
    }

    /// Reads one token per line from `path`, optionally followed by scopes (`reveal-accounts`);
    /// blank lines and `#` comments are skipped. A file with no token, or an unknown scope,
    /// is an error, so a typo cannot turn authentication off or grant nothing silently.
    pub fn from_file(path: &Path) -> Result<Self, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut tokens = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let digest = digest(words.next().unwrap_or_default().as_bytes());
            let mut caller = Caller::default();
            for scope in words {
                match scope {
                    "reveal-accounts" => caller.reveal_accounts = true,
                    other => {
                        return Err(TokenError::UnknownScope {
                            path: path.to_owned(),
                            line: number + 1,
                            scope: other.to_owned(),
                        });
                    }
                }
            }
            tokens.push(Token { digest, caller });
        }
        if tokens.is_empty() {
            return Err(TokenError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self(Arc::new(tokens)))
    }

    /// The caller an `authorization` header value names, if it names one of the tokens.
    pub fn caller(&self, authorization: Option<&[u8]>) -> Option<Caller> {
        let value = authorization?;
        let token = value
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case(b"bearer "))
            .and_then(|_| value.get(7..))?;
        // Every configured digest is compared in full, matched or not.
        let presented = digest(token);
        self.0.iter().fold(None, |found, known| {
            let matched: bool = known.digest.ct_eq(&presented).into();
            found.or(matched.then_some(known.caller))
        })
    }

    /// Whether an `authorization` header value names one of the tokens.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        self.caller(authorization).is_some()
    }
}

/// The `authorization` metadata value a client sends with `token`.
pub fn bearer_header(token: &str) -> Result<tonic::metadata::AsciiMetadataValue, TokenError> {
    format!("Bearer {token}")
        .parse()
        .map_err(|_| TokenError::NotAscii)
}

/// Admits a call only with a listed bearer token.
impl Gate for BearerTokens {
    type Ticket = ();

    fn admit(
        &self,
        headers: &http::HeaderMap,
        extensions: &mut http::Extensions,
    ) -> Result<(), tonic::Status> {
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        if let Some(caller) = self.caller(authorization) {
            extensions.insert(caller);
            Ok(())
        } else {
            Err(tonic::Status::unauthenticated(
                "missing or unknown bearer token: send `authorization: Bearer <token>`",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> std::io::Result<BearerTokens> {
        let path = std::env::temp_dir().join(format!(
            "payments-tokens-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::write(&path, text)?;
        let read = BearerTokens::from_file(&path).map_err(std::io::Error::other);
        let _ = std::fs::remove_file(path);
        read
    }

    #[test]
    fn only_a_listed_token_after_bearer_is_accepted() {
        let t = tokens("# ops\nalpha-1\n\n  beta-2  reveal-accounts\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.caller(Some(b"Bearer alpha-1")), Some(Caller::default()));
        assert_eq!(
            t.caller(Some(b"Bearer beta-2")),
            Some(Caller {
                reveal_accounts: true
            })
        );
        assert!(t.accepts(Some(b"Bearer alpha-1")));
        assert!(t.accepts(Some(b"bearer beta-2")));
        assert!(!t.accepts(Some(b"Bearer alpha-2")));
        assert!(!t.accepts(Some(b"alpha-1")));
        assert!(!t.accepts(Some(b"Basic alpha-1")));
        assert!(!t.accepts(None));
        assert_eq!(format!("{t:?}"), "BearerTokens(2 tokens)");
    }

    #[test]
    fn prefixes_extensions_and_empty_tokens_are_refused() {
        let t = tokens("secret-token-1\n").unwrap_or_else(|e| panic!("{e}"));
        for presented in [
            "Bearer secret-token-",
            "Bearer secret-token-12",
            "Bearer ",
            "Bearer s",
        ] {
            assert!(!t.accepts(Some(presented.as_bytes())), "{presented}");
        }
        assert!(t.accepts(Some(b"Bearer secret-token-1")));
    }

    #[test]
    fn a_file_without_tokens_is_refused() {
        let error = tokens("# nothing here\n\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("holds no bearer token"), "{error}");
        let error = tokens("alpha reveal-acounts\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 1: unknown scope \"reveal-acounts\""),
            "{error}"
        );
    }
}
