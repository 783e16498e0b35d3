//! `tierwise stats` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise stats`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`tierwise stats` is not implemented yet")
}
