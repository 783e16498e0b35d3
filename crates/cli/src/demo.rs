//! `tierwise demo`: write the seeded SYNTHETIC demo workload (`train.jsonl`, `heldout.jsonl`,
//! `tiers.toml`).
use std::path::PathBuf;

use anyhow::Result;
use tierwise_core::demo::{self, DemoOptions};

/// Arguments of `tierwise demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder to write `train.jsonl`, `heldout.jsonl` and `tiers.toml` into.
    #[arg(long, default_value = "datasets/demo")]
    out: PathBuf,
    /// RNG seed: the same seed writes the same files.
    #[arg(long, allow_negative_numbers = true, default_value_t = 42)]
    seed: u64,
    /// Training prompts (each answered by every tier).
    #[arg(long, allow_negative_numbers = true, default_value_t = DemoOptions::default().train)]
    train: usize,
    /// Held-out prompts (each answered by every tier), dated after the training prompts.
    #[arg(long, allow_negative_numbers = true, default_value_t = DemoOptions::default().heldout)]
    heldout: usize,
}

pub fn run(args: Args) -> Result<()> {
    let opts = DemoOptions {
        seed: args.seed,
        train: args.train,
        heldout: args.heldout,
    };
    let r = demo::write(&args.out, &opts)?;
    let mut text = format!(
        "wrote {}: train.jsonl ({} prompts, {} rows), heldout.jsonl ({} prompts, {} rows), tiers.toml (seed {})\n",
        args.out.display(),
        r.train_prompts,
        r.train_rows,
        r.heldout_prompts,
        r.heldout_rows,
        r.seed
    );
    for (tier, q) in &r.mean_score {
        text.push_str(&format!(
            "  {tier:<8} mean score {q:.3} (train and held-out)\n"
        ));
    }
    crate::stats::emit(&text)
}
