//! The HTTP port over TLS: each accepted connection is handshaken with the app's rustls
//! acceptor, then served HTTP/1.1 by hyper, each request carrying whether the connection
//! presented a verified client certificate ([`ClientCertificate`]); on shutdown the
//! listener closes and open connections finish the requests in hand.

use crate::Shutdown;
use crate::tls::{ClientCertificate, HttpTls};
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Longest a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` over TLS on `listener` until `shutdown` is cancelled, then waits for
/// the requests in hand.
pub async fn serve_tls(
    listener: TcpListener,
    router: Router,
    tls: HttpTls,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let acceptor: TlsAcceptor = tls.acceptor;
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "http accept failed");
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "http tls handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "http tls handshake timed out");
                    return;
                }
            };
            // With a client CA configured, a certificate shows only once rustls verified it.
            let certificate = ClientCertificate {
                verified: tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .is_some_and(|chain| !chain.is_empty()),
            };
            let service = TowerToHyperService::new(router.layer(axum::Extension(certificate)));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service);
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%peer, %error, "http connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}
