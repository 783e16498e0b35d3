//! `tierwise demo` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise demo`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`tierwise demo` is not implemented yet")
}
