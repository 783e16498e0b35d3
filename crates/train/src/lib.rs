//! tierwise-train: fits the difficulty classifier (one pass probability per tier) from an
//! outcome table with candle, and writes a router artifact that `tierwise-router` loads.
//!
//! Holds: featurisation at training time, the network, the masked stable loss, calibration and
//! the λ choice. Does not hold: serving (`tierwise-router`), metrics (`tierwise-eval`).
#![deny(missing_docs)]
