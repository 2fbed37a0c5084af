//! The data directory lock (`<dir>/lock`, as upstream's `tsdbutil.DirLocker`): an exclusive
//! `flock` that stops a second process from opening the same directory, released by the
//! kernel if the holder dies. Whether the file was left behind tells a crash from a clean
//! shutdown (upstream's `prometheus_tsdb_clean_start`).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("lock DB directory: resource temporarily unavailable ({0} is held by another process)")]
    Held(PathBuf),
    #[error("open lock file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Holds the lock until dropped; dropping removes the file, marking a clean shutdown.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
    _file: File,
    clean_start: bool,
}

impl DirLock {
    pub fn acquire(dir: impl AsRef<Path>) -> Result<DirLock, LockError> {
        let path = dir.as_ref().join("lock");
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let clean_start = !path.exists();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(LockError::Held(path)),
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        Ok(DirLock {
            path,
            _file: file,
            clean_start,
        })
    }

    /// False when a previous holder left the file behind, i.e. did not shut down cleanly.
    pub fn clean_start(&self) -> bool {
        self.clean_start
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert!(first.clean_start());
        let err = DirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, LockError::Held(_)), "{err}");
        drop(first);
        assert!(!dir.path().join("lock").exists());
        // A file left by a crashed holder is taken over, and reported.
        std::fs::write(dir.path().join("lock"), b"").unwrap();
        assert!(!DirLock::acquire(dir.path()).unwrap().clean_start());
    }
}
