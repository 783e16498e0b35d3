//! One error enum for tierwise-eval; every message names the file, and where there is one, the
//! line and the field or key.
use std::path::PathBuf;

/// Result alias for tierwise-eval.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of tierwise-eval.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error from tierwise-core (logs, tier config).
    #[error(transparent)]
    Core(#[from] tierwise_core::Error),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a decisions file (or another JSONL input) is invalid.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    InvalidLine {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A gate file is invalid, or a report lacks what the gate needs.
    #[error("{file}: {reason}")]
    Gate {
        /// The gate or report file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A report file could not be parsed.
    #[error("{file}: not a tierwise eval report: {reason}")]
    Report {
        /// The report file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// Drawing the curve failed.
    #[error("plot {file}: {reason}")]
    Plot {
        /// The image file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The inputs cannot be evaluated (no prompts left, mismatched shapes, …).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wrap an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
