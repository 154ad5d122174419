//! Blocking Thrift connections to HBase's gateway, pooled and driven from tokio's blocking
//! threads: the binary protocol on buffered transport, as `hbase thrift start` serves by
//! default. A call that fails on the wire drops its connection; an exception HBase
//! answered with (IOError, IllegalArgument, AlreadyExists) keeps it.

use crate::{Error, Result};
use hbase_thrift::hbase::{AlreadyExists, HbaseSyncClient, IOError, IllegalArgument};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thrift::protocol::{TBinaryInputProtocol, TBinaryOutputProtocol};
use thrift::transport::{
    ReadHalf, TBufferedReadTransport, TBufferedWriteTransport, TIoChannel, TTcpChannel, WriteHalf,
};

/// A connected client of the HBase Thrift (v1) service.
pub type Client = HbaseSyncClient<
    TBinaryInputProtocol<TBufferedReadTransport<ReadHalf<TTcpChannel>>>,
    TBinaryOutputProtocol<TBufferedWriteTransport<WriteHalf<TTcpChannel>>>,
>;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one call may wait for its answer before the connection is given up.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 8;

/// A pool of connections to one gateway.
pub struct Connections {
    address: String,
    idle: Mutex<Vec<Client>>,
}

/// What HBase said, from an exception it threw or a failure on the wire; and whether the
/// connection is still usable.
pub fn explain(error: thrift::Error) -> (String, bool) {
    match error {
        thrift::Error::User(e) => {
            let message = if let Some(e) = e.downcast_ref::<IOError>() {
                format!("IOError: {}", e.message.clone().unwrap_or_default())
            } else if let Some(e) = e.downcast_ref::<IllegalArgument>() {
                format!("IllegalArgument: {}", e.message.clone().unwrap_or_default())
            } else if let Some(e) = e.downcast_ref::<AlreadyExists>() {
                format!("AlreadyExists: {}", e.message.clone().unwrap_or_default())
            } else {
                e.to_string()
            };
            (message, true)
        }
        thrift::Error::Application(e) => (format!("application error: {e}"), true),
        other => (other.to_string(), false),
    }
}

/// Whether HBase refused with `AlreadyExists`.
pub fn already_exists(error: &thrift::Error) -> bool {
    matches!(error, thrift::Error::User(e) if e.downcast_ref::<AlreadyExists>().is_some())
}

impl Connections {
    /// A pool for `host:port`; connects lazily.
    pub fn new(address: String) -> Arc<Self> {
        Arc::new(Self {
            address,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Client>> {
        match self.idle.lock() {
            Ok(idle) => idle,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn connect(&self) -> Result<Client> {
        let unreachable = |reason: String| {
            Error::backend(
                format!("cannot reach the HBase Thrift gateway at {}", self.address),
                reason,
            )
        };
        let addresses = self
            .address
            .to_socket_addrs()
            .map_err(|e| unreachable(e.to_string()))?;
        let mut last = String::from("the name resolves to no address");
        for address in addresses {
            match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    stream
                        .set_read_timeout(Some(CALL_TIMEOUT))
                        .and_then(|()| stream.set_write_timeout(Some(CALL_TIMEOUT)))
                        .map_err(|e| unreachable(e.to_string()))?;
                    let (read, write) = TTcpChannel::with_stream(stream)
                        .split()
                        .map_err(|e| unreachable(e.to_string()))?;
                    return Ok(HbaseSyncClient::new(
                        TBinaryInputProtocol::new(TBufferedReadTransport::new(read), true),
                        TBinaryOutputProtocol::new(TBufferedWriteTransport::new(write), true),
                    ));
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(unreachable(last))
    }

    /// Runs `call` on a pooled connection on a blocking thread. `what` names the call in
    /// errors: `hbase {what}: {what HBase said}`.
    pub async fn call<T, F>(self: &Arc<Self>, what: &'static str, call: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> thrift::Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = this.idle().pop();
            let mut client = match pooled {
                Some(client) => client,
                None => this.connect()?,
            };
            match call(&mut client) {
                Ok(value) => {
                    this.checkin(client);
                    Ok(value)
                }
                Err(error) => {
                    // HBase names an argument it cannot take: the data's fault, not the
                    // gateway's, and sending it again fails again.
                    let refused = matches!(&error, thrift::Error::User(e) if e.downcast_ref::<IllegalArgument>().is_some());
                    let (message, usable) = explain(error);
                    if usable {
                        this.checkin(client);
                    }
                    if refused {
                        Err(Error::refused(format!("hbase {what}"), message))
                    } else {
                        Err(Error::backend(format!("hbase {what}"), message))
                    }
                }
            }
        })
        .await
        .map_err(|e| Error::backend(format!("hbase {what}: the call's thread failed"), e))?
    }

    /// Like [`Connections::call`], but hands back HBase's own error for the caller to read.
    pub async fn call_raw<T, F>(
        self: &Arc<Self>,
        what: &'static str,
        call: F,
    ) -> Result<thrift::Result<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> thrift::Result<T> + Send + 'static,
    {
        self.call(what, move |client| match call(client) {
            // A failure on the wire still drops the connection.
            Err(e @ (thrift::Error::Transport(_) | thrift::Error::Protocol(_))) => Err(e),
            answered => Ok(answered),
        })
        .await
    }

    fn checkin(&self, client: Client) {
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE {
            idle.push(client);
        }
    }
}
