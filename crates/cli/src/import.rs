//! `tierwise import`: turn public routing-outcome data (RouterBench, RouteLLM) into tierwise
//! logs. The output is written to `OUT.tmp` and renamed when the import succeeds, so a failed
//! import never leaves a half-written log behind.
use std::path::{Path, PathBuf};

use anyhow::Result;
use tierwise_core::import::{self, routellm::DEFAULT_OUTPUT_TOKENS, ImportReport, RouteLlmOptions};
use tierwise_core::{LogRow, LogWriter, TierConfig};

/// Arguments of `tierwise import`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    source: Source,
}

#[derive(clap::Subcommand)]
enum Source {
    /// RouterBench CSV files (e.g. `arc_challenge_train.csv`): one log row per (prompt, model)
    /// with a score; blank scores are missing outcomes and write no row.
    Routerbench {
        /// The CSV files, read in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The JSONL log to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// RouteLLM outcome CSV files (`mmlu/mmlu_SUBJECT.csv`, `gsm8k_responses.csv`): one log row
    /// per (prompt, model) with a True/False outcome.
    Routellm {
        /// The CSV files, read in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The JSONL log to write.
        #[arg(long)]
        out: PathBuf,
        /// Tier config whose list prices give each row an estimated cost (tokens estimated at
        /// ~4 characters a token). Without it, rows carry no cost.
        #[arg(long)]
        tiers: Option<PathBuf>,
        /// Output tokens billed for rows without a response (MMLU asks for one letter).
        #[arg(long, default_value_t = DEFAULT_OUTPUT_TOKENS)]
        output_tokens: u64,
    },
}

pub fn run(args: Args) -> Result<()> {
    let (out, report) = match args.source {
        Source::Routerbench { files, out } => {
            let report = write_to(&out, |sink| import::import_routerbench(&files, sink))?;
            (out, report)
        }
        Source::Routellm {
            files,
            out,
            tiers,
            output_tokens,
        } => {
            let tiers = match tiers {
                Some(p) => Some((TierConfig::from_file(&p)?, p.display().to_string())),
                None => None,
            };
            let opts = RouteLlmOptions {
                tiers,
                default_output_tokens: output_tokens,
            };
            let report = write_to(&out, |sink| import::import_routellm(&files, &opts, sink))?;
            (out, report)
        }
    };
    crate::stats::emit(&format!(
        "wrote {} rows to {}\n{}\n",
        report.rows,
        out.display(),
        report.summary()
    ))
}

type Sink<'a> = &'a mut dyn FnMut(LogRow) -> tierwise_core::Result<()>;

/// Run an importer into `OUT.tmp`, then move it to `out` ([`crate::whole::write`]).
fn write_to(
    out: &Path,
    importer: impl FnOnce(Sink) -> tierwise_core::Result<ImportReport>,
) -> Result<ImportReport> {
    crate::whole::write(out, |tmp| {
        let mut writer = LogWriter::create(tmp)?;
        let report = importer(&mut |row| writer.write(&row))?;
        writer.finish()?;
        Ok(report)
    })
}
