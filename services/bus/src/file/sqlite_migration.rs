//! Moving a bus that an earlier version kept in one SQLite file (tables `records` and
//! `group_offsets`) into a segment log at the same path.
//!
//! The log is built beside the file (`PATH.migrating`), flushed to the disk, and then takes
//! the file's place: the file is renamed to `PATH.sqlite-migrated`, the log to `PATH`, and
//! the old file deleted. [`recover`] finishes or undoes each step after a crash, so the
//! records are always in one of the two, whole.

use super::commits::write_commits;
use super::names::encode_name;
use super::segment::{SEGMENT_BYTES, SegmentWriter};
use crate::BusRecord;
use bytes::Bytes;
use rusqlite::{Connection, OpenFlags, params};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Records read from the SQLite file at a time.
const CHUNK: i64 = 2_000;

/// What a migration moved.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Migrated {
    pub topics: usize,
    pub records: u64,
    pub commits: usize,
}

/// Whether the file at `path` is a SQLite database.
pub(super) fn is_sqlite_file(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut magic = [0; 16];
    let mut file = std::fs::File::open(path)?;
    let mut read = 0;
    while read < magic.len() {
        match file.read(&mut magic[read..])? {
            0 => return Ok(false),
            n => read += n,
        }
    }
    Ok(&magic == SQLITE_MAGIC)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Where the log is built.
fn staging_path(path: &Path) -> PathBuf {
    with_suffix(path, ".migrating")
}

/// Where the SQLite file waits while the log takes its place.
fn retired_path(path: &Path) -> PathBuf {
    with_suffix(path, ".sqlite-migrated")
}

/// Deletes the SQLite file at `path` with its journal files.
fn remove_sqlite_file(path: &Path) -> std::io::Result<()> {
    remove_if_there(path)?;
    remove_journals(path)
}

/// Deletes the journal files SQLite keeps beside a database at `path`.
fn remove_journals(path: &Path) -> std::io::Result<()> {
    remove_if_there(&with_suffix(path, "-wal"))?;
    remove_if_there(&with_suffix(path, "-shm"))
}

fn remove_if_there(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Finishes or undoes what a migration of `path` interrupted by a crash left: a half-built
/// log is deleted (the SQLite file still holds everything), and a SQLite file set aside is
/// deleted when the log took its place, or put back when it did not.
pub(super) fn recover(path: &Path) -> std::io::Result<()> {
    let staging = staging_path(path);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let retired = retired_path(path);
    if retired.exists() {
        if path.is_dir() {
            remove_sqlite_file(&retired)?;
        } else if !path.exists() {
            std::fs::rename(&retired, path)?;
        }
    }
    Ok(())
}

/// Moves every record and commit of the SQLite bus file at `path` into a segment log that
/// then takes its place; `init` makes an empty log's directory. An error leaves the SQLite
/// file where it was.
pub(super) fn migrate(
    path: &Path,
    init: impl Fn(&Path) -> std::io::Result<()>,
) -> Result<Migrated, String> {
    let staging = staging_path(path);
    let migrated = {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("opening it as SQLite: {e}"))?;
        init(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
        copy_log(&connection, &staging)?
    };
    sync_tree(&staging).map_err(|e| format!("flushing {}: {e}", staging.display()))?;
    let retired = retired_path(path);
    std::fs::rename(path, &retired).map_err(|e| {
        format!(
            "setting the SQLite file aside as {}: {e}",
            retired.display()
        )
    })?;
    std::fs::rename(&staging, path)
        .map_err(|e| format!("moving {} into its place: {e}", staging.display()))?;
    remove_sqlite_file(&retired).map_err(|e| format!("deleting {}: {e}", retired.display()))?;
    remove_journals(path).map_err(|e| format!("deleting its SQLite journal: {e}"))?;
    Ok(migrated)
}

/// Copies every topic's records and commits from `connection` into the log at `log`.
fn copy_log(connection: &Connection, log: &Path) -> Result<Migrated, String> {
    let sql = |what: &str, e: rusqlite::Error| format!("{what}: {e}");
    let mut commits: HashMap<String, HashMap<String, i64>> = HashMap::new();
    {
        let mut select = connection
            .prepare("SELECT topic, grp, next_offset FROM group_offsets")
            .map_err(|e| sql("reading its commits", e))?;
        let mut rows = select
            .query([])
            .map_err(|e| sql("reading its commits", e))?;
        while let Some(row) = rows.next().map_err(|e| sql("reading its commits", e))? {
            let (topic, group, next): (String, String, i64) = (
                row.get(0).map_err(|e| sql("reading a commit", e))?,
                row.get(1).map_err(|e| sql("reading a commit", e))?,
                row.get(2).map_err(|e| sql("reading a commit", e))?,
            );
            commits.entry(topic).or_default().insert(group, next);
        }
    }
    let mut topics: BTreeSet<String> = commits.keys().cloned().collect();
    {
        let mut select = connection
            .prepare("SELECT DISTINCT topic FROM records")
            .map_err(|e| sql("reading its topics", e))?;
        let names = select
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| sql("reading its topics", e))?;
        for name in names {
            topics.insert(name.map_err(|e| sql("reading its topics", e))?);
        }
    }
    let mut migrated = Migrated::default();
    for topic in &topics {
        let dir = log.join(super::TOPICS_DIR).join(encode_name(topic));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let committed = commits.remove(topic).unwrap_or_default();
        let after_commits = committed.values().copied().max().unwrap_or(0);
        migrated.records += copy_records(connection, topic, &dir, after_commits)?;
        migrated.commits += committed.len();
        write_commits(&dir, &committed)
            .map_err(|e| format!("writing {}'s commits: {e}", dir.display()))?;
        migrated.topics += 1;
    }
    Ok(migrated)
}

/// Copies `topic`'s records into segments in `dir`, keeping their offsets and timestamps;
/// a topic with none starts at `empty_base`. Returns how many it copied.
fn copy_records(
    connection: &Connection,
    topic: &str,
    dir: &Path,
    empty_base: i64,
) -> Result<u64, String> {
    let failed = |e: &dyn std::fmt::Display| format!("copying topic {topic:?}: {e}");
    let mut select = connection
        .prepare(
            "SELECT offset, timestamp_ms, key, value, headers FROM records \
             WHERE topic = ?1 AND offset >= ?2 ORDER BY offset LIMIT ?3",
        )
        .map_err(|e| failed(&e))?;
    let mut writer: Option<SegmentWriter> = None;
    let mut copied = 0u64;
    let mut from = i64::MIN;
    loop {
        let rows: Vec<(i64, i64, BusRecord)> = select
            .query_map(params![topic, from, CHUNK], |row| {
                let headers: Vec<u8> = row.get(4)?;
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    BusRecord {
                        key: Bytes::from(row.get::<_, Vec<u8>>(2)?),
                        value: Bytes::from(row.get::<_, Vec<u8>>(3)?),
                        headers: super::frame::decode_headers(&headers)
                            .unwrap_or_else(super::frame::unreadable_headers),
                    },
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| failed(&e))?;
        let Some(&(last, _, _)) = rows.last() else {
            break;
        };
        // Runs of consecutive offsets with one timestamp: one append each.
        let mut rest = &rows[..];
        while let Some(&(offset, timestamp_ms, _)) = rest.first() {
            let run = rest
                .iter()
                .enumerate()
                .take_while(|(i, (o, t, _))| *o == offset + *i as i64 && *t == timestamp_ms)
                .count();
            let current = writer
                .take()
                .filter(|w| w.end == offset && w.len() < SEGMENT_BYTES);
            let mut segment = match current {
                Some(w) => w,
                None => {
                    SegmentWriter::create(dir, offset)
                        .map_err(|e| failed(&e))?
                        .0
                }
            };
            let records: Vec<BusRecord> = rest[..run].iter().map(|(_, _, r)| r.clone()).collect();
            segment
                .append(&records, timestamp_ms)
                .map_err(|e| failed(&format!("{e:?}")))?;
            writer = Some(segment);
            copied += run as u64;
            rest = &rest[run..];
        }
        from = last + 1;
    }
    if writer.is_none() {
        SegmentWriter::create(dir, empty_base).map_err(|e| failed(&e))?;
    }
    Ok(copied)
}

/// Flushes every file under `dir`, and the directories themselves, to the disk.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()
}
