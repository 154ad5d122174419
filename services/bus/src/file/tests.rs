use super::*;
use crate::Consumer;
use bytes::Bytes;
use rusqlite::{Connection, params};
use std::time::Duration;

fn record(n: u32) -> BusRecord {
    BusRecord {
        key: Bytes::from(n.to_string()),
        value: Bytes::from(vec![n as u8, 0, 255]),
        headers: vec![
            ("content-type".into(), Bytes::from_static(b"x")),
            ("empty".into(), Bytes::new()),
        ],
    }
}

/// A record of about 1 KB.
fn kilobyte(n: u32) -> BusRecord {
    BusRecord {
        value: Bytes::from(vec![n as u8; 1_000]),
        ..record(n)
    }
}

/// The offsets of the first `count` records `consumer` polls, `step` at a time; fails
/// when a poll finds nothing within 5 s.
async fn offsets_polled(
    consumer: &mut FileConsumer,
    count: usize,
    step: usize,
) -> Result<Vec<i64>> {
    let mut offsets = Vec::new();
    while offsets.len() < count {
        let batch = consumer.poll(step, Duration::from_secs(5)).await?;
        assert!(!batch.is_empty(), "only {} records came", offsets.len());
        offsets.extend(batch.iter().map(|d| d.offset));
    }
    Ok(offsets)
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payments-file-bus-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("bus.db")
}

/// The segment files of `topic` in the bus at `path`.
fn segment_files(path: &Path, topic: &str) -> Vec<String> {
    let dir = path.join(TOPICS_DIR).join(names::encode_name(topic));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".log"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn last_segment(path: &Path, topic: &str) -> PathBuf {
    let files = segment_files(path, topic);
    path.join(TOPICS_DIR)
        .join(names::encode_name(topic))
        .join(files.last().expect("a segment"))
}

#[tokio::test]
async fn records_outlive_the_bus_and_each_group_resumes_at_its_commit() -> Result<()> {
    let path = temp_path("resume");
    {
        let bus = Arc::new(FileBus::open(&path).await?);
        bus.send_batch("t", (0..5).map(record).collect()).await?;
        let mut consumer = bus.consumer("t", "g")?;
        let batch = consumer.poll(2, Duration::from_millis(10)).await?;
        assert_eq!(batch[0].record, record(0));
        consumer.commit(&batch).await?;
        assert_eq!(consumer.lag(), 3);
        assert!(matches!(
            bus.consumer("t", "g"),
            Err(Error::ConsumerTaken { .. })
        ));
    }
    let bus = Arc::new(FileBus::open(&path).await?);
    let mut again = bus.consumer("t", "g")?;
    let rest = again.poll(10, Duration::from_millis(10)).await?;
    assert_eq!(
        rest.iter().map(|d| d.offset).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(rest[0].record, record(2));
    assert!(again.caught_up().await?);
    // New records continue the offsets.
    again.commit(&rest).await?;
    bus.send("t", record(9)).await?;
    assert_eq!(
        again.poll(10, Duration::from_millis(10)).await?[0].offset,
        5
    );
    Ok(())
}

#[tokio::test]
async fn a_closed_bus_leaves_every_record_in_its_directory() -> Result<()> {
    let path = temp_path("close");
    let bus = Arc::new(FileBus::open(&path).await?);
    bus.send_batch("t", (0..50).map(record).collect()).await?;
    bus.close().await?;
    assert!(bus.snapshot("t", 1).await.is_err(), "no read after close");
    drop(bus);
    // A copy of the directory alone holds them all.
    let copy = path.with_file_name("copy.db");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&path)
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    let reopened = Arc::new(FileBus::open(&copy).await?);
    let kept = reopened.snapshot("t", 100).await?;
    assert_eq!(kept.len(), 50);
    assert_eq!(kept[49].record, record(49));
    Ok(())
}

#[tokio::test]
async fn segments_every_group_has_read_past_are_deleted_and_the_rest_kept() -> Result<()> {
    let path = temp_path("delete");
    let bus = Arc::new(FileBus::open_with_segments_of(&path, 16 << 10).await?);
    for chunk in 0..20 {
        bus.send_batch("t", (chunk * 5..chunk * 5 + 5).map(kilobyte).collect())
            .await?;
    }
    let before = segment_files(&path, "t").len();
    assert!(before >= 5, "{before} segments");
    let mut first = bus.consumer("t", "first")?;
    let mut second = bus.consumer("t", "second")?;
    let read = first.poll(60, Duration::from_millis(10)).await?;
    first.commit(&read).await?;
    assert_eq!(
        segment_files(&path, "t").len(),
        before,
        "second has committed nothing"
    );
    let read = second.poll(30, Duration::from_millis(10)).await?;
    second.commit(&read).await?;
    let after = segment_files(&path, "t");
    assert!(after.len() < before, "{after:?}");
    let kept = bus.snapshot("t", 200).await?;
    let oldest = kept.first().map_or(i64::MAX, |d| d.offset);
    assert!(oldest > 0 && oldest <= 30, "the oldest kept is {oldest}");
    assert_eq!(kept.last().map(|d| d.offset), Some(99));
    assert_eq!(bus.uncommitted("t", "second").await?, 70);
    drop((first, second, bus));
    // Reopened, the log starts at its oldest segment, and each group at its commit.
    let bus = Arc::new(FileBus::open_with_segments_of(&path, 16 << 10).await?);
    assert_eq!(bus.snapshot("t", 1).await?[0].offset, oldest);
    let mut second = bus.consumer("t", "second")?;
    assert_eq!(
        offsets_polled(&mut second, 70, 1_000).await?,
        (30..100).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test]
async fn a_consumer_behind_the_memory_tail_reads_the_segments() -> Result<()> {
    let path = temp_path("tail");
    let bus = Arc::new(FileBus::open(&path).await?);
    let total = 25_000;
    for chunk in (0..total).collect::<Vec<_>>().chunks(3_000) {
        bus.send_batch("t", chunk.iter().copied().map(record).collect())
            .await?;
    }
    // In steps larger and smaller than an append (a frame), which a poll reads whole.
    for (group, step) in [("large", 7_000), ("small", 250)] {
        let mut consumer = bus.consumer("t", group)?;
        let offsets = offsets_polled(&mut consumer, total as usize, step).await?;
        assert_eq!(
            offsets,
            (0..i64::from(total)).collect::<Vec<_>>(),
            "{group}"
        );
        assert!(consumer.poll(1, Duration::from_millis(1)).await?.is_empty());
    }
    Ok(())
}

#[tokio::test]
async fn committed_records_leave_the_memory_tail_and_a_later_group_reads_them_from_the_log()
-> Result<()> {
    let bus = Arc::new(FileBus::open(&temp_path("trim")).await?);
    bus.send_batch("t", (0..100).map(record).collect()).await?;
    let mut first = bus.consumer("t", "first")?;
    let read = first.poll(60, Duration::from_millis(10)).await?;
    first.commit(&read).await?;
    let tail = lock(&bus.topic("t").state).tail.offsets();
    assert_eq!(tail, (60..100).collect::<Vec<_>>());
    let mut later = bus.consumer("t", "later")?;
    let offsets = offsets_polled(&mut later, 100, 30).await?;
    assert_eq!(offsets, (0..100).collect::<Vec<_>>());
    // While `later` has committed nothing, a commit of `first` keeps the tail whole.
    let rest = first.poll(40, Duration::from_millis(10)).await?;
    first.commit(&rest).await?;
    assert_eq!(lock(&bus.topic("t").state).tail.offsets().len(), 40);
    Ok(())
}

#[tokio::test]
async fn a_damaged_append_comes_saying_so_and_the_records_after_it_still_come() -> Result<()> {
    let path = temp_path("damaged");
    {
        let bus = FileBus::open_with_segments_of(&path, 1).await?;
        for n in 0..3 {
            bus.send_batch("t", vec![kilobyte(2 * n), kilobyte(2 * n + 1)])
                .await?;
        }
        bus.close().await?;
    }
    // One byte of the middle append's (a segment of its own) second value flips.
    let files = segment_files(&path, "t");
    assert_eq!(files.len(), 3, "{files:?}");
    let middle = path.join(TOPICS_DIR).join("t").join(&files[1]);
    let mut bytes = std::fs::read(&middle).expect("the segment");
    let at = bytes.len() - 500;
    bytes[at] ^= 0xff;
    std::fs::write(&middle, bytes).expect("damaging it");
    let bus = Arc::new(FileBus::open(&path).await?);
    let mut consumer = bus.consumer("t", "g")?;
    let mut got = Vec::new();
    while got.len() < 6 {
        let batch = consumer.poll(10, Duration::from_secs(5)).await?;
        assert!(!batch.is_empty(), "only {got:?} came");
        got.extend(batch);
    }
    let offsets: Vec<i64> = got.iter().map(|d| d.offset).collect();
    assert_eq!(offsets, (0..6).collect::<Vec<_>>());
    assert_eq!(got[1].record, kilobyte(1));
    for damaged in &got[2..4] {
        let reason = damaged.record.header(crate::headers::READ_ERROR);
        assert_eq!(reason, Some(frame::DAMAGED));
        assert!(damaged.record.value.is_empty());
    }
    assert_eq!(got[4].record, kilobyte(4));
    assert!(consumer.caught_up().await?);
    Ok(())
}

#[tokio::test]
async fn a_torn_end_is_cut_off_and_appends_go_on_after_the_last_whole_one() -> Result<()> {
    let path = temp_path("torn");
    {
        let bus = FileBus::open(&path).await?;
        bus.send_batch("t", (0..10).map(kilobyte).collect()).await?;
    }
    // What a process killed in the middle of a write leaves: part of a frame.
    let last = last_segment(&path, "t");
    let whole = std::fs::metadata(&last).expect("the segment").len();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .expect("the segment");
    std::io::Write::write_all(&mut file, b"PBF1 and then the process died").expect("tearing it");
    drop(file);
    {
        let bus = Arc::new(FileBus::open(&path).await?);
        assert_eq!(std::fs::metadata(&last).expect("the segment").len(), whole);
        bus.send("t", kilobyte(10)).await?;
        bus.close().await?;
    }
    let bus = Arc::new(FileBus::open(&path).await?);
    let mut consumer = bus.consumer("t", "g")?;
    let got = consumer.poll(20, Duration::from_secs(5)).await?;
    assert_eq!(got.len(), 11);
    assert_eq!(got[10].record, kilobyte(10));
    Ok(())
}

#[tokio::test]
async fn a_group_committed_past_a_lost_end_never_reads_a_new_record_under_an_old_offset()
-> Result<()> {
    let path = temp_path("past-end");
    {
        let bus = Arc::new(FileBus::open(&path).await?);
        bus.send_batch("t", (0..10).map(record).collect()).await?;
        let mut consumer = bus.consumer("t", "g")?;
        let read = consumer.poll(10, Duration::from_secs(5)).await?;
        consumer.commit(&read).await?;
    }
    // A power cut kept the commit but lost the last records' bytes.
    let last = last_segment(&path, "t");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .and_then(|f| f.set_len(0))
        .expect("losing the log's end");
    let bus = Arc::new(FileBus::open(&path).await?);
    bus.send("t", record(42)).await?;
    let mut consumer = bus.consumer("t", "g")?;
    let got = consumer.poll(10, Duration::from_secs(5)).await?;
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].offset, &got[0].record), (10, &record(42)));
    Ok(())
}

#[tokio::test]
async fn a_dead_letter_topic_keeps_its_latest_records() -> Result<()> {
    let path = temp_path("dlq");
    let bus = Arc::new(FileBus::open_with_segments_of(&path, 64 << 10).await?);
    let total = DEAD_LETTERS_KEPT as u32 + 5_000;
    for chunk in (0..total).collect::<Vec<_>>().chunks(1_000) {
        bus.send_batch("t.dlq", chunk.iter().copied().map(record).collect())
            .await?;
    }
    let kept = bus.snapshot("t.dlq", 1).await?;
    assert_eq!(kept[0].offset, 5_000);
    assert_eq!(
        bus.uncommitted("t.dlq", "g").await?,
        DEAD_LETTERS_KEPT as u64
    );
    let oldest_file = segment_files(&path, "t.dlq")[0].clone();
    let oldest = segment::parse_segment_file_name(&oldest_file).expect("a segment");
    assert!((1..=5_000).contains(&oldest), "{oldest_file}");
    Ok(())
}

/// Fails unless opening the bus at `path` is refused with an error that says `reason`.
async fn assert_refused(path: &Path, reason: &str) {
    let error = FileBus::open(path).await.err().map(|e| e.to_string());
    assert!(
        error.as_deref().is_some_and(|e| e.contains(reason)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_second_process_is_refused_while_the_first_has_the_bus() -> Result<()> {
    let path = temp_path("lock");
    let _first = FileBus::open(&path).await?;
    assert_refused(&path, "another process has it open").await;
    Ok(())
}

#[tokio::test]
async fn what_is_not_a_bus_is_refused_saying_what_it_is() -> Result<()> {
    let path = temp_path("not-a-bus");
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("its directory");
    std::fs::write(&path, "some notes").expect("a file");
    assert_refused(&path, "neither a file bus directory nor").await;
    assert_eq!(
        std::fs::read_to_string(&path).ok().as_deref(),
        Some("some notes")
    );
    std::fs::remove_file(&path).expect("removing it");
    std::fs::create_dir_all(path.join("photos")).expect("a directory");
    assert_refused(&path, "no bus-format, so not a file bus").await;
    Ok(())
}

#[tokio::test]
async fn a_waiting_poll_wakes_on_append() -> Result<()> {
    let bus = Arc::new(FileBus::open(&temp_path("wake")).await?);
    let mut consumer = bus.consumer("t", "g")?;
    let producer = bus.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        producer.send("t", record(1)).await
    });
    let got = consumer.poll(10, Duration::from_secs(5)).await?;
    assert_eq!(got.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_append_whose_caller_gives_up_completes_whole_and_the_next_follows_it() -> Result<()> {
    let path = temp_path("abandoned");
    let bus = Arc::new(FileBus::open(&path).await?);
    // Polled once (the write starts on its blocking thread, which waits for the topic's
    // writer held here), then dropped, as when the client of an ingest stream hangs up.
    // (Without holding the writer, the append could finish within that one poll when this
    // thread was descheduled for a millisecond.)
    let topic = bus.topic("t");
    let writing = lock(&topic.writer);
    let abandoned = bus.enqueue("t", (0..500).map(record).collect());
    assert!(
        abandoned.now_or_never().is_none(),
        "the append cannot finish while the writer is held"
    );
    drop(writing);
    bus.send_batch("t", (500..1_000).map(record).collect())
        .await?;
    let mut consumer = bus.consumer("t", "g")?;
    let offsets = offsets_polled(&mut consumer, 1_000, 1_000).await?;
    assert_eq!(offsets, (0..1_000).collect::<Vec<i64>>());
    drop(consumer);
    drop(bus);
    // And the log says the same.
    let reopened = Arc::new(FileBus::open(&path).await?);
    assert_eq!(reopened.uncommitted("t", "g").await?, 1_000);
    Ok(())
}

/// Writes a bus file as the SQLite versions did: `topic` holds offsets `offsets` (one
/// timestamp per ten), record 7 with headers that do not parse; `commits` are its groups'.
fn old_sqlite_bus(
    path: &Path,
    topic: &str,
    offsets: std::ops::Range<i64>,
    commits: &[(&str, i64)],
) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("its directory");
    let connection = Connection::open(path).expect("a SQLite file");
    connection
        .execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE records (topic TEXT NOT NULL, offset INTEGER NOT NULL, \
             timestamp_ms INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, headers BLOB NOT NULL, \
             PRIMARY KEY (topic, offset)) WITHOUT ROWID;
             CREATE TABLE group_offsets (topic TEXT NOT NULL, grp TEXT NOT NULL, \
             next_offset INTEGER NOT NULL, PRIMARY KEY (topic, grp)) WITHOUT ROWID;",
        )
        .expect("the old schema");
    for offset in offsets {
        let record = record(offset as u32);
        let headers = if offset == 7 {
            vec![0, 0, 0, 0xff]
        } else {
            frame::encode_headers(&record.headers)
        };
        connection
            .execute(
                "INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    topic,
                    offset,
                    1_000 + offset / 10,
                    record.key.as_ref(),
                    record.value.as_ref(),
                    headers
                ],
            )
            .expect("a record");
    }
    for (group, next) in commits {
        connection
            .execute(
                "INSERT INTO group_offsets VALUES (?1, ?2, ?3)",
                params![topic, group, next],
            )
            .expect("a commit");
    }
}

#[tokio::test]
async fn a_sqlite_bus_file_of_an_earlier_version_moves_into_a_log_with_nothing_lost() -> Result<()>
{
    let path = temp_path("migrate");
    old_sqlite_bus(
        &path,
        "payment-transactions",
        5..105,
        &[("processor", 50), ("slow", 5)],
    );
    // An empty topic whose records were all read goes on after its commit.
    Connection::open(&path)
        .and_then(|c| {
            c.execute(
                "INSERT INTO group_offsets VALUES ('done', 'processor', 900)",
                [],
            )
        })
        .expect("a commit");
    let bus = Arc::new(FileBus::open(&path).await?);
    assert!(path.is_dir());
    for leftover in [".sqlite-migrated", ".migrating", "-wal", "-shm"] {
        assert!(
            !PathBuf::from(format!("{}{leftover}", path.display())).exists(),
            "{leftover}"
        );
    }
    let mut processor = bus.consumer("payment-transactions", "processor")?;
    let got = processor.poll(1_000, Duration::from_secs(5)).await?;
    assert_eq!(got.first().map(|d| d.offset), Some(50));
    assert_eq!(got.len(), 55);
    assert_eq!(got[0].record, record(50));
    assert_eq!(got[0].timestamp_ms, 1_005);
    let mut slow = bus.consumer("payment-transactions", "slow")?;
    let got = slow.poll(1_000, Duration::from_secs(5)).await?;
    assert_eq!(got.len(), 100);
    assert_eq!(got[1].record, record(6));
    // A record whose headers did not parse comes saying so, with its key and value.
    assert_eq!(got[2].record.key, record(7).key);
    assert_eq!(
        got[2].record.header(crate::headers::READ_ERROR),
        Some("its headers in the bus file are unreadable")
    );
    bus.send("payment-transactions", record(1)).await?;
    assert_eq!(
        processor.poll(10, Duration::from_secs(5)).await?[0].offset,
        105
    );
    bus.send("done", record(1)).await?;
    let mut done = bus.consumer("done", "processor")?;
    assert_eq!(done.poll(10, Duration::from_secs(5)).await?[0].offset, 900);
    Ok(())
}

#[tokio::test]
async fn a_move_from_sqlite_that_a_crash_interrupted_is_done_again_whole() -> Result<()> {
    // Stopped while building the log: the half-built log is thrown away.
    let path = temp_path("migrate-crash");
    old_sqlite_bus(&path, "t", 0..30, &[("g", 10)]);
    let staging = PathBuf::from(format!("{}.migrating", path.display()));
    std::fs::create_dir_all(staging.join("topics/t")).expect("a half-built log");
    std::fs::write(staging.join("topics/t/00000000000000000000.log"), "half").expect("a segment");
    {
        let bus = Arc::new(FileBus::open(&path).await?);
        assert_eq!(bus.uncommitted("t", "g").await?, 20);
        assert!(!staging.exists());
    }
    // Stopped after setting the SQLite file aside, before the log took its place.
    let path = temp_path("migrate-crash-2");
    old_sqlite_bus(&path, "t", 0..30, &[("g", 10)]);
    let retired = PathBuf::from(format!("{}.sqlite-migrated", path.display()));
    std::fs::rename(&path, &retired).expect("setting it aside");
    let bus = Arc::new(FileBus::open(&path).await?);
    assert_eq!(bus.uncommitted("t", "g").await?, 20);
    let mut consumer = bus.consumer("t", "g")?;
    assert_eq!(consumer.poll(100, Duration::from_secs(5)).await?.len(), 20);
    assert!(!retired.exists());
    Ok(())
}
