//! What this crate's unit tests share.

/// A directory of its own for a test named `name`, in the system's temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("paymentsctl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the test directory");
    dir
}
