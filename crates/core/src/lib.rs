//! tierwise-core: the shared vocabulary of tierwise.
//!
//! Holds the log format (one JSON object per model call, [`log`]), its validating reader and
//! writer ([`read`], [`write`]), the tier config ([`tiers`]), the prompts × tiers outcome table
//! that training and evals consume ([`outcome`]), fold splitting ([`folds`]), importers for public
//! outcome data ([`import`]), log dashboards ([`stats`]) and the synthetic demo workload
//! ([`demo`]).
//!
//! Holds no ML and no HTTP: those live in `tierwise-train`, `tierwise-router` and
//! `tierwise-client`.
#![deny(missing_docs)]

pub mod demo;
pub mod error;
pub mod folds;
pub mod import;
pub mod log;
pub mod outcome;
pub mod progress;
pub mod read;
pub mod stats;
pub mod text;
pub mod tiers;
pub mod write;

pub use error::{Error, RejectKind, Result};
pub use log::{LogRow, Message, Status};
pub use outcome::{Cell, OutcomeCounts, OutcomeTable, PromptInfo};
pub use read::{read_logs, LogSet, ReadOptions, ReadReport};
pub use tiers::{Price, Provider, Tier, TierConfig, Usage};
pub use write::LogWriter;
