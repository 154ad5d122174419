//! A stand-in for HBase's Thrift (v1) gateway, the server `hbase://` talks to: the
//! `hbase-thrift` crate's generated `HbaseSyncProcessor` over in-memory tables, speaking
//! the binary protocol on buffered transport as `hbase thrift start` does by default.
//!
//! No HBase can run where this project is tested, so the `hbase://` store is tested against
//! this. It proves the client's calls and their wire format; it does not prove HBase's own
//! behaviour (regions, WAL, versions, compactions). It understands the filter language only
//! in part ([`filter`]), and refuses the rest by name.

pub mod filter;
mod handler;
mod tables;

pub use handler::StandinHandler;

use hbase_thrift::hbase::HbaseSyncProcessor;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use thrift::protocol::{TBinaryInputProtocol, TBinaryOutputProtocol};
use thrift::server::TProcessor;
use thrift::transport::{TBufferedReadTransport, TBufferedWriteTransport, TIoChannel, TTcpChannel};

/// A running stand-in: serves until dropped, then closes every connection.
pub struct HbaseStandin {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
    handler: StandinHandler,
}

impl HbaseStandin {
    /// Starts serving on `listen` (`127.0.0.1:0` for any free port) with no tables.
    pub fn start(listen: &str) -> io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        let address = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let handler = StandinHandler::default();
        let processor = Arc::new(HbaseSyncProcessor::new(handler.clone()));
        let acceptor = {
            let stopping = stopping.clone();
            let connections = connections.clone();
            std::thread::Builder::new()
                .name("hbase-standin-accept".into())
                .spawn(move || accept(&listener, &stopping, &connections, &processor))?
        };
        Ok(Self {
            address,
            stopping,
            connections,
            acceptor: Some(acceptor),
            handler,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Row mutations applied since start (each row of each batch counts once).
    pub fn rows_written(&self) -> u64 {
        self.handler.rows_written()
    }

    /// The store URL that reaches it, `hbase://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("hbase://{}", self.address)
    }
}

impl Drop for HbaseStandin {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let connections = match self.connections.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        for connection in connections.iter() {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn accept(
    listener: &TcpListener,
    stopping: &AtomicBool,
    connections: &Mutex<Vec<TcpStream>>,
    processor: &Arc<HbaseSyncProcessor<StandinHandler>>,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        if let (Ok(clone), Ok(mut open)) = (stream.try_clone(), connections.lock()) {
            open.push(clone);
        }
        let processor = processor.clone();
        let _ = std::thread::Builder::new()
            .name("hbase-standin-conn".into())
            .spawn(move || serve(stream, &processor));
    }
}

/// Answers calls on one connection until the client goes away.
fn serve(stream: TcpStream, processor: &HbaseSyncProcessor<StandinHandler>) {
    let Ok((read, write)) = TTcpChannel::with_stream(stream).split() else {
        return;
    };
    let mut input = TBinaryInputProtocol::new(TBufferedReadTransport::new(read), true);
    let mut output = TBinaryOutputProtocol::new(TBufferedWriteTransport::new(write), true);
    while processor.process(&mut input, &mut output).is_ok() {}
}
