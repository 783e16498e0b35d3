//! tierwise-eval: held-out evals of tiers and routers: the metrics of `docs/metrics.md`
//! (AIQ, cost_at_best, APGR, CPT) with bootstrap intervals, the leakage and drift checks, reports
//! (JSON, Markdown, SVG curve), the no-signal null of a router ([`null`]), the picture of a trained router's validation curve, and the CI
//! gate.
//!
//! Does not hold: training or serving; routers are evaluated through `tierwise-router`
//! (see the CLI's `tierwise eval`), or from decisions made elsewhere.
#![deny(missing_docs)]

pub mod bootstrap;
pub mod curve;
pub mod decisions;
pub mod drift;
pub mod error;
pub mod gate;
pub mod leakage;
pub mod markdown;
pub mod metrics;
pub mod null;
pub mod plot;
pub mod report;
pub mod table;

pub use bootstrap::{
    evaluate, resample_weights, BootstrapOptions, Estimate, Evaluation, MIN_RESAMPLES,
};
pub use error::{Error, Result};
pub use leakage::{Fingerprints, Leakage};
pub use metrics::{Evaluator, Sample};
pub use report::{Context, Report};
pub use table::{EvalTable, Predictions, PromptCounts};
