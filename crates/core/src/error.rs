//! One error enum for the core crate; every message names the file, and where there is one,
//! the line and the field or key.
use std::path::PathBuf;

/// Result alias for tierwise-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a log line was rejected; used to count rejections in `--skip-invalid` summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// The line is not valid UTF-8.
    NotUtf8,
    /// The line is not valid JSON, or not a JSON object.
    MalformedJson,
    /// Neither `prompt` nor `messages` is present (or they hold no text).
    NoPrompt,
    /// `model` is absent or not a string.
    NoModel,
    /// `score` is outside [0, 1].
    ScoreOutOfRange,
    /// A cost, latency or token count is negative.
    Negative,
    /// A field has the wrong JSON type or an unsupported value.
    BadField,
    /// Two rows share an `id` but their prompt texts differ.
    IdConflict,
    /// A CSV record is malformed (importers).
    MalformedCsv,
}

impl RejectKind {
    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            RejectKind::NotUtf8 => "not UTF-8",
            RejectKind::MalformedJson => "malformed JSON",
            RejectKind::NoPrompt => "neither prompt nor messages",
            RejectKind::NoModel => "no model",
            RejectKind::ScoreOutOfRange => "score outside [0, 1]",
            RejectKind::Negative => "negative cost, latency or tokens",
            RejectKind::BadField => "field of the wrong type or value",
            RejectKind::IdConflict => "id reused for a different prompt",
            RejectKind::MalformedCsv => "malformed CSV",
        }
    }
}

/// Errors of tierwise-core.
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
    /// A log line (or CSV record) was rejected.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    InvalidRow {
        /// The file.
        file: String,
        /// 1-based line number (for CSV: the record's line).
        line: usize,
        /// The offending field or column.
        field: String,
        /// What is wrong.
        reason: String,
        /// The category, for summaries.
        kind: RejectKind,
    },
    /// A config file (tiers, gate) is invalid.
    #[error("{file}: key `{key}`: {reason}")]
    Config {
        /// The file.
        file: String,
        /// The dotted key, e.g. `tier[2].price.input`.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The input held no usable rows.
    #[error("{file}: no usable rows: {reason}")]
    Empty {
        /// The file(s).
        file: String,
        /// Why.
        reason: String,
    },
    /// Anything else that is wrong with the input as a whole.
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

    /// The rejection category, when this is a rejected row.
    pub fn reject_kind(&self) -> Option<RejectKind> {
        match self {
            Error::InvalidRow { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}
