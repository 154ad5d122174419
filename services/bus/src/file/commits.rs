//! A topic's `commits` file: each group's next offset, one line per group
//! (`<offset> <group>`, the group's name encoded by [`super::names`]). It is replaced whole
//! (written beside it, then renamed over it), so a reader finds the old lines or the new
//! ones, never a mix.

use super::names::{decode_name, encode_name};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

const FILE_NAME: &str = "commits";
const FIRST_LINE: &str = "# each consumer group's next offset: <offset> <group>";

/// The commits in `dir`'s file (none when it has none). A line that is not a commit is
/// logged and skipped.
pub(super) fn read_commits(dir: &Path) -> io::Result<HashMap<String, i64>> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(error) => return Err(error),
    };
    let mut commits = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line.split_once(' ').and_then(|(offset, group)| {
            Some((
                decode_name(group)?,
                offset.parse::<i64>().ok().filter(|o| *o >= 0)?,
            ))
        });
        match parsed {
            Some((group, offset)) => {
                commits.insert(group, offset);
            }
            None => tracing::error!(
                file = %path.display(),
                line = number + 1,
                "file bus skipped a line of its commits file that is not `<offset> <group>`"
            ),
        }
    }
    Ok(commits)
}

/// Replaces `dir`'s commits file with `commits`.
pub(super) fn write_commits(dir: &Path, commits: &HashMap<String, i64>) -> io::Result<()> {
    let mut groups: Vec<_> = commits.iter().collect();
    groups.sort();
    let mut text = format!("{FIRST_LINE}\n");
    for (group, offset) in groups {
        text.push_str(&format!("{offset} {}\n", encode_name(group)));
    }
    let staged = dir.join(format!("{FILE_NAME}.new"));
    std::fs::File::create(&staged)?.write_all(text.as_bytes())?;
    std::fs::rename(staged, dir.join(FILE_NAME))
}

/// Flushes `dir`'s commits file to the disk.
pub(super) fn sync_commits(dir: &Path) -> io::Result<()> {
    match std::fs::File::open(dir.join(FILE_NAME)) {
        Ok(file) => file.sync_all(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_round_trip_and_a_bad_line_is_skipped() -> io::Result<()> {
        let dir = std::env::temp_dir().join(format!("payments-commits-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        assert!(read_commits(&dir)?.is_empty());
        let commits = HashMap::from([
            ("processor.sqlite".to_owned(), 10),
            ("a group with spaces".to_owned(), 0),
        ]);
        write_commits(&dir, &commits)?;
        assert_eq!(read_commits(&dir)?, commits);
        std::fs::write(dir.join(FILE_NAME), "12 g\nnot a commit\n-1 h\n7 %zz\n")?;
        assert_eq!(read_commits(&dir)?, HashMap::from([("g".to_owned(), 12)]));
        std::fs::remove_dir_all(&dir)
    }
}
