//! `tierwise eval` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise eval`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`tierwise eval` is not implemented yet")
}
