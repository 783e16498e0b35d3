//! `tierwise train` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise train`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`tierwise train` is not implemented yet")
}
