//! `tierwise import` (not implemented yet).
use anyhow::{bail, Result};

/// Arguments of `tierwise import`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`tierwise import` is not implemented yet")
}
