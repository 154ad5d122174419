//! [`open_connection`]: a rusqlite connection of the store's own to its database file.

use crate::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Opens the existing database file at `path` read-write, waiting up to 10 s for a lock, with
/// `pragmas` set in order; an error names the file and `purpose` (`writing`, `checkpoints`).
pub fn open_connection(path: &Path, purpose: &str, pragmas: &[(&str, &str)]) -> Result<Connection> {
    let opening =
        |e: rusqlite::Error| Error::backend(format!("opening {} for {purpose}", path.display()), e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags).map_err(opening)?;
    connection
        .busy_timeout(Duration::from_secs(10))
        .map_err(opening)?;
    for (pragma, value) in pragmas {
        connection
            .pragma_update(None, pragma, value)
            .map_err(opening)?;
    }
    Ok(connection)
}
