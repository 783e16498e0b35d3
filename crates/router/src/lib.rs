//! tierwise-router: loads a trained router artifact and decides a tier for a prompt, in-process,
//! in microseconds. No HTTP, no async runtime, no global state.
//!
//! Holds: the artifact format, the featuriser shared with training, the forward pass and the
//! policy. Does not hold: training (`tierwise-train`) or calling providers (`tierwise-client`).
#![deny(missing_docs)]
