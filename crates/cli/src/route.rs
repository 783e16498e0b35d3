//! `tierwise route` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise route`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`tierwise route` is not implemented yet")
}
