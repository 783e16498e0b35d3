//! `tierwise gate`: check an eval report against a gate file. Exit 0 when every check holds,
//! 1 when one fails, 2 when the gate, the report or the baseline is unusable.
use std::path::PathBuf;

use anyhow::{Context, Result};
use tierwise_eval::gate::Gate;
use tierwise_eval::Report;

/// Arguments of `tierwise gate`.
#[derive(clap::Args)]
pub struct Args {
    /// The eval report (`report.json` written by `tierwise eval`).
    #[arg(long)]
    pub report: PathBuf,
    /// The gate file (TOML): `min_quality_vs_best`, `max_cost_vs_best`, `min_aiq`, `min_apgr`,
    /// `max_regression` (+ `regression_metrics`), `fail_on = ["leakage", "drift"]` (report
    /// warnings that fail it), `[min]` / `[max]` tables of any metric.
    #[arg(long)]
    pub gate: PathBuf,
    /// A baseline report (e.g. the last one from main) for `max_regression`.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
}

/// Returns the exit code: 0 pass, 1 fail (errors exit 2 from `main`).
pub fn run(args: Args) -> Result<i32> {
    let gate = Gate::from_file(&args.gate)?;
    let report = Report::read(&args.report)?;
    let baseline = match &args.baseline {
        Some(b) => Some(Report::read(b)?),
        None => None,
    };
    let names = |p: &PathBuf| p.display().to_string();
    let base_name = args.baseline.as_ref().map(names).unwrap_or_default();
    let checks = gate
        .check(
            &report,
            &names(&args.report),
            baseline.as_ref().map(|b| (b, base_name.as_str())),
        )
        .with_context(|| format!("gate {}", args.gate.display()))?;
    print!("{}", tierwise_eval::gate::render(&checks));
    for w in &report.warnings {
        eprintln!("warning (from the report): {w}");
    }
    Ok(if checks.iter().all(|c| c.pass) { 0 } else { 1 })
}
