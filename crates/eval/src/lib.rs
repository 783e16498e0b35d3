//! tierwise-eval: held-out evals of tiers and routers: the metrics of `docs/metrics.md`
//! (AIQ, cost_at_best, APGR, CPT) with bootstrap intervals, reports and the CI gate.
//!
//! Does not hold: training or serving; routers are evaluated through `tierwise-router`.
#![deny(missing_docs)]
