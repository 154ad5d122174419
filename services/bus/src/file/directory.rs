//! Opening a bus's directory: making it when missing, moving an earlier version's SQLite file
//! into it, and loading each topic's segments and commits.

use super::segment::{self, Segment};
use super::{
    DEAD_LETTERS_KEPT, FORMAT, FORMAT_FILE, TOPICS_DIR, Topic, TopicState, commits, file_error,
    names, sqlite_migration,
};
use crate::Result;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Makes `path` a bus directory: creates it when missing, and moves a SQLite bus file of an
/// earlier version into it.
pub(super) fn prepare_directory(path: &Path) -> Result<()> {
    let failed = |what: &str, e: &dyn std::fmt::Display| file_error(path, what, e);
    sqlite_migration::recover(path)
        .map_err(|e| failed("finishing an interrupted move from SQLite", &e))?;
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return init_directory(path).map_err(|e| failed("creating it", &e));
        }
        Err(e) => return Err(failed("reading it", &e)),
    };
    if metadata.is_file() {
        if metadata.len() == 0 {
            std::fs::remove_file(path).map_err(|e| failed("replacing an empty file", &e))?;
            return init_directory(path).map_err(|e| failed("creating it", &e));
        }
        if !sqlite_migration::is_sqlite_file(path).map_err(|e| failed("reading it", &e))? {
            return Err(failed(
                "opening it",
                &"it is a file, neither a file bus directory nor the SQLite file of an earlier \
                  version; give another --bus file://…",
            ));
        }
        tracing::info!(path = %path.display(), "file bus moving records from its sqlite file into a segment log");
        let migrated = sqlite_migration::migrate(path, init_directory)
            .map_err(|e| failed("moving its records from SQLite into a segment log", &e))?;
        tracing::info!(
            path = %path.display(),
            topics = migrated.topics,
            records = migrated.records,
            commits = migrated.commits,
            "file bus moved its sqlite file into a segment log"
        );
        return Ok(());
    }
    match std::fs::read_to_string(path.join(FORMAT_FILE)) {
        Ok(format) if format == FORMAT => Ok(()),
        Ok(format) => Err(failed(
            "opening it",
            &format!(
                "its {FORMAT_FILE} says {:?}, a format this version does not read",
                format.trim()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = std::fs::read_dir(path)
                .map_err(|e| failed("reading it", &e))?
                .next()
                .is_none();
            if empty {
                init_directory(path).map_err(|e| failed("creating it", &e))
            } else {
                Err(failed(
                    "opening it",
                    &format!(
                        "it is a directory with files but no {FORMAT_FILE}, so not a file bus; \
                         give another --bus file://…"
                    ),
                ))
            }
        }
        Err(e) => Err(failed("reading it", &e)),
    }
}

/// Creates an empty bus directory at `path`. Its format file comes first: a crash before it
/// leaves an empty directory, which the next open takes for a new bus.
pub(super) fn init_directory(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)?;
    std::fs::write(path.join(FORMAT_FILE), FORMAT)?;
    std::fs::create_dir_all(path.join(TOPICS_DIR))
}

/// Every topic the bus at `path` holds, with its segments and its groups' commits.
pub(super) fn load_topics(path: &Path) -> Result<HashMap<String, Arc<Topic>>> {
    let topics_dir = path.join(TOPICS_DIR);
    std::fs::create_dir_all(&topics_dir).map_err(|e| file_error(path, "reading its topics", e))?;
    let entries =
        std::fs::read_dir(&topics_dir).map_err(|e| file_error(path, "reading its topics", e))?;
    let mut topics = HashMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| file_error(path, "reading its topics", e))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(names::decode_name) else {
            tracing::warn!(entry = %entry.path().display(), "file bus skipped an entry that names no topic");
            continue;
        };
        let state = load_topic(&entry.path(), &name)
            .map_err(|e| file_error(path, &format!("reading topic {name:?}"), e))?;
        topics.insert(name.clone(), Topic::new(path, &name, state));
    }
    Ok(topics)
}

/// The segments and commits of the topic in `dir`. The last segment's frames are checked
/// whole, and a torn end (what a crash mid-append leaves) is cut off.
fn load_topic(dir: &Path, name: &str) -> std::io::Result<TopicState> {
    let mut bases = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(base) = entry
            .file_name()
            .to_str()
            .and_then(segment::parse_segment_file_name)
        {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    let mut state = TopicState {
        committed: commits::read_commits(dir)?,
        ..TopicState::default()
    };
    for (i, &base) in bases.iter().enumerate() {
        let path = dir.join(segment::segment_file_name(base));
        let next = bases.get(i + 1).copied();
        let last = next.is_none();
        let (segment, damage) = Segment::open(&path, base, last, next)?;
        if let Some(damage) = damage {
            if last {
                tracing::warn!(
                    file = %path.display(),
                    bytes = damage.bytes_after,
                    reason = %damage.reason,
                    "file bus cut off the end of its log that no append finished"
                );
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(segment.len)?;
            } else {
                tracing::error!(
                    file = %path.display(),
                    lost_from = segment.end,
                    lost_to = next,
                    reason = %damage.reason,
                    "file bus found part of a segment unreadable; each of its records comes in its place saying so"
                );
            }
        }
        state.segments.push(segment);
    }
    let committed_max = state.committed.values().copied().max().unwrap_or(0);
    state.start = state.segments.first().map_or(committed_max, |s| s.base);
    // Past every commit even when the log's end was lost (a power cut): a group that read
    // an offset never gets a different record under it.
    state.end = state
        .segments
        .last()
        .map_or(committed_max, |s| s.end)
        .max(committed_max);
    if name.ends_with(".dlq") {
        state.start = state.start.max(state.end - DEAD_LETTERS_KEPT);
    }
    Ok(state)
}
