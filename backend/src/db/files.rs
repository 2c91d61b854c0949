//! Files on disk that hold secrets are private to the server's user: the data dir 0700,
//! the SQLite file 0600 (SQLite gives its -wal and -shm files the main file's mode).

use std::path::{Path, PathBuf};

/// Creates `dir` (and parents) if missing; a directory wahub creates is 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The file a `sqlite:` URL names (`None` for in-memory databases).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:" && !url.contains("mode=memory")).then(|| PathBuf::from(path))
}

/// Creates the database file 0600 before SQLite does (it would use the umask, 0644), and
/// tightens an existing one.
pub fn private_sqlite_file(url: &str) -> std::io::Result<()> {
    let Some(path) = sqlite_path(url) else { return Ok(()) };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if url.contains("mode=rwc") && !path.exists() {
            match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        for file in [path.clone(), wal_sibling(&path, "-wal"), wal_sibling(&path, "-shm")] {
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

fn wal_sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes a new file that only its owner can read (fails if it exists).
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_path("sqlite:///tmp/x/wahub.db?mode=rwc").unwrap().to_str(), Some("/tmp/x/wahub.db"));
        assert_eq!(sqlite_path("sqlite://./data/wahub.db").unwrap().to_str(), Some("./data/wahub.db"));
        assert!(sqlite_path("sqlite::memory:").is_none());
        assert!(sqlite_path("postgres://x/y").is_none());
    }
}
