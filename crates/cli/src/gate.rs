//! `tierwise gate` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise gate`.
#[derive(clap::Args)]
pub struct Args {}

/// Returns the exit code: 0 pass, 1 fail.
pub fn run(_args: Args) -> Result<i32> {
    bail!("`tierwise gate` is not implemented yet")
}
