//! A plain HTTP/1.0 GET, enough to read another service's `/metrics`.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a GET failed.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// The URL is not `http://host:port/path`.
    #[error("{0:?} is not an http://host:port/path URL")]
    BadUrl(String),
    /// Connecting, writing or reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server answered something other than 200.
    #[error("answered {0:?}")]
    Status(String),
}

/// Splits `http://host:port/path` into authority and path.
fn split_url(url: &str) -> Result<(&str, &str), GetError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| GetError::BadUrl(url.to_owned()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(GetError::BadUrl(url.to_owned()));
    }
    Ok((authority, path))
}

/// The body of `url` (at most 16 MiB), when it answers 200 within `timeout`.
pub async fn get_text(url: &str, timeout: Duration) -> Result<String, GetError> {
    let (authority, path) = split_url(url)?;
    get_from(authority, authority, path, timeout).await
}

/// `url` fetched from every address its host resolves to (each pod behind a headless
/// Service), as (address, body or error).
pub async fn get_every_address(
    url: &str,
    timeout: Duration,
) -> Result<Vec<(String, Result<String, GetError>)>, GetError> {
    let (authority, path) = split_url(url)?;
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host(authority).await?.collect();
    let mut answers = Vec::with_capacity(addresses.len());
    for address in addresses {
        let text = get_from(&address.to_string(), authority, path, timeout).await;
        answers.push((address.to_string(), text));
    }
    Ok(answers)
}

async fn get_from(
    address: &str,
    authority: &str,
    path: &str,
    timeout: Duration,
) -> Result<String, GetError> {
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        let request =
            format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: text/plain\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.take(16 << 20).read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| GetError::Timeout(timeout))??;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status_line = head.lines().next().unwrap_or_default();
    if status_line.split(' ').nth(1) != Some("200") {
        return Err(GetError::Status(status_line.to_owned()));
    }
    Ok(body.to_owned())
}
