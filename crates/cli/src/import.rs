//! `tierwise import`: turn public routing-outcome data (RouterBench, RouteLLM) into tierwise
//! logs. The output is written to `OUT.tmp` and renamed when the import succeeds, so a failed
//! import never leaves a half-written log behind.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
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

/// `OUT.tmp`: where a command writes before moving the finished file to `out`.
pub(crate) fn tmp_path(out: &Path) -> PathBuf {
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// Run an importer into `OUT.tmp`, then move it to `out`.
fn write_to(
    out: &Path,
    importer: impl FnOnce(Sink) -> tierwise_core::Result<ImportReport>,
) -> Result<ImportReport> {
    let tmp = tmp_path(out);
    let mut writer = LogWriter::create(&tmp)?;
    let result = importer(&mut |row| writer.write(&row));
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            drop(writer);
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    writer.finish()?;
    std::fs::rename(&tmp, out)
        .with_context(|| format!("moving {} to {}", tmp.display(), out.display()))?;
    Ok(report)
}
