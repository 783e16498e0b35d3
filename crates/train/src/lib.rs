//! tierwise-train: fits the difficulty classifier (one pass probability per tier) from an
//! outcome table with candle, and writes a router artifact that `tierwise-router` loads.
//!
//! Holds: tokenizer training, finding a `tokenizer.json` by path, folder or Hugging Face model id
//! in the local cache ([`hub`], offline), featurisation at training time (through the router's own
//! featuriser, so training and serving cannot disagree), the network and its masked stable loss,
//! the linear member (which may also read pretrained token vectors, [`vectors`]), the low-rank
//! member ([`lowrank`]) and the ensemble that folds the members into one net,
//! calibration, the shrink toward the prior, the cost model and the λ choice, and the baselines
//! the quality bench compares against. Members are fitted in parallel; see [`threads`] for the
//! candle settings a binary should apply first. Does not hold: serving (`tierwise-router`), metrics (`tierwise-eval`).
#![deny(missing_docs)]

pub mod baselines;
pub mod calib;
pub mod choosable;
pub mod cost;
pub mod curve;
pub mod data;
pub mod dense;
pub mod ensemble;
pub mod error;
pub mod hub;
pub mod linear;
pub mod lowrank;
mod lsq;
pub mod net;
mod pipeline;
pub mod ridge;
pub mod shrink;
pub mod sparse_adam;
pub mod threads;
pub mod tokenizer;
pub mod vectors;

pub use calib::{Calibration, POOLING};
pub use error::{Error, Result};
pub use pipeline::{sha256_file, train, Epoch, TrainOptions, Trained};
