//! Errors of tierwise-train.

/// Result with the trainer's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while training.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading logs or the tier config failed.
    #[error(transparent)]
    Core(#[from] tierwise_core::Error),
    /// Writing or checking the artifact failed.
    #[error(transparent)]
    Router(#[from] tierwise_router::Error),
    /// A tensor operation failed.
    #[error("tensor operation: {0}")]
    Candle(#[from] candle_core::Error),
    /// Training or loading the tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A model file named by a path or a Hugging Face model id was not found ([`crate::hub`];
    /// nothing is ever downloaded).
    #[error("`{spec}`: no {file} found: {reason}")]
    ModelFile {
        /// What was asked for: a path or `org/name[@revision]`.
        spec: String,
        /// The file wanted, e.g. `tokenizer.json`.
        file: String,
        /// Where it was looked for and what to do.
        reason: String,
    },
    /// The data cannot train a router (too few prompts, no outcomes, no costs, …).
    #[error("{0}")]
    Data(String),
    /// A training option is out of its range.
    #[error("training option: {0}")]
    Options(String),
    /// An I/O error with its path.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
