//! Errors of tierwise-router.
use std::path::PathBuf;

/// Result with the router's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong loading or writing a router artifact.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The artifact is corrupt, truncated or does not match its `router.json`.
    #[error("{}: {reason}", path.display())]
    Artifact {
        /// The offending file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A bad argument (target spec, tier count, …).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn artifact(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Artifact {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
