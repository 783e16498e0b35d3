//! `tierwise eval`: score every tier and a router on held-out logs and write `report.json`,
//! `report.md` and `curve.svg`. The router runs through `tierwise-router` exactly as a service
//! runs it (`Router::decide` on `Prompt::from_row`), or its decisions come from a file.
use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use tierwise_core::{read_logs, OutcomeTable, ReadOptions, TierConfig};
use tierwise_eval::{
    decisions, evaluate, leakage, report, BootstrapOptions, Context, EvalTable, Fingerprints,
    Predictions, Report,
};
use tierwise_router::{Decision, Prompt, Router};

/// Arguments of `tierwise eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The router artifact directory (from `tierwise train`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Held-out log files (JSONL); repeat or list several.
    #[arg(long, required = true, num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// Tier config (TOML). Default: the router's tiers. Required with `--decisions` alone.
    #[arg(long)]
    pub tiers: Option<PathBuf>,
    /// Output directory for report.json, report.md and curve.svg.
    #[arg(long)]
    pub out: PathBuf,
    /// Score decisions made elsewhere (`tierwise route` output) instead of running the router.
    #[arg(long)]
    pub decisions: Option<PathBuf>,
    /// A previous report.json to show side by side.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Bootstrap resamples (at least 100).
    #[arg(long, default_value_t = 1000)]
    pub resamples: usize,
    /// Permutations of the test against chance: the router's AIQ against its own predictions
    /// dealt to random prompts. Its p-value is at least 1 / (1 + N), so with fewer than 20 the
    /// report always warns; 0 skips the test. The test runs on the whole set and again on each
    /// feature tag's prompts; at 100,000 prompts × 11 tiers, 99 take about 3 s each time.
    #[arg(long, default_value_t = tierwise_eval::null::PERMUTATIONS)]
    pub permutations: usize,
    /// Skip (and count) invalid log lines instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.model.is_none() && args.decisions.is_none() {
        bail!("give --model (run the router) or --decisions (score decisions made elsewhere)");
    }
    // Before loading anything: too few resamples fail at once.
    let bootstrap = BootstrapOptions {
        resamples: args.resamples,
        seed: args.seed,
    };
    bootstrap.check().context("--resamples")?;
    let router = match &args.model {
        Some(m) => {
            Some(Router::load(m).with_context(|| format!("loading the router {}", m.display()))?)
        }
        None => None,
    };
    let config = match (&args.tiers, &router) {
        (Some(path), r) => {
            let c = TierConfig::from_file(path)?;
            if let Some(r) = r {
                let want: Vec<&str> = r.tiers().iter().map(|t| t.name.as_str()).collect();
                if c.names() != want {
                    bail!(
                        "{}: tiers {:?} differ from the router's {:?}",
                        path.display(),
                        c.names(),
                        want
                    );
                }
            }
            c
        }
        (None, Some(r)) => TierConfig::new(r.tiers().to_vec())?,
        (None, None) => bail!("--decisions without --model needs --tiers (the tier config)"),
    };
    let logs = read_logs(
        &args.logs,
        ReadOptions {
            skip_invalid: args.skip_invalid,
            progress: true,
        },
    )?;
    if logs.report.rejected_total() > 0 {
        eprintln!("{}", logs.report.summary());
    }
    let outcome = OutcomeTable::build(&logs.rows, &config);
    if outcome.counts.unmapped_rows() > 0 {
        eprintln!(
            "warning: {} log rows name a model of no tier: {:?}",
            outcome.counts.unmapped_rows(),
            outcome.counts.unmapped_models
        );
    }
    let (table, mut counts) = EvalTable::from_outcome(&outcome);
    let (table, preds) = match (&args.decisions, &router) {
        (Some(path), _) => {
            let d = decisions::read(path, &table.tiers)?;
            let (sub, preds, unmatched) = decisions::align(&table, &mut counts, &d);
            if unmatched > 0 {
                eprintln!(
                    "warning: {unmatched} decisions in {} match no evaluable prompt of the logs",
                    path.display()
                );
            }
            (sub, preds)
        }
        (None, Some(r)) => {
            let preds = run_router(r, &logs.rows, &table);
            (table, preds)
        }
        (None, None) => unreachable!("checked above"),
    };
    let eval = evaluate(&table, &preds, bootstrap)?;
    let meta = router.as_ref().map(|r| r.meta());
    let leak = meta.map(|m| {
        let fp = &m.training.train_fingerprints;
        let fp = Fingerprints {
            exact: fp.exact.clone(),
            simhash: fp.simhash.clone(),
        };
        leakage::check(&table.ids, &table.texts, &fp)
    });
    let context = Context {
        logs: args.logs.iter().map(|p| p.display().to_string()).collect(),
        model: args.model.as_ref().map(|p| p.display().to_string()),
        decisions: args.decisions.as_ref().map(|p| p.display().to_string()),
        target: meta.map(|m| m.target.clone()),
        // Decisions made elsewhere may have used another λ: only claim the artifact's when the
        // router itself decided.
        lambda: router
            .as_ref()
            .filter(|_| args.decisions.is_none())
            .map(Router::lambda),
        predicted_quality: meta.map(|m| m.predicted.quality),
        predicted_cost: meta.map(|m| m.predicted.cost_usd),
        predicted_prompts: meta.map(|m| m.training.val_prompts),
        predicted_quality_se: meta.and_then(|m| m.predicted.quality_se),
        predicted_cost_se: meta.and_then(|m| m.predicted.cost_usd_se),
    };
    let report = Report::build(
        &table,
        counts,
        &preds,
        &eval,
        context,
        leak,
        args.permutations,
    );
    let baseline = match &args.baseline {
        Some(b) => Some(Report::read(b)?),
        None => None,
    };
    report::write(&args.out, &report, baseline.as_ref())?;
    for w in &report.warnings {
        eprintln!("WARNING: {w}");
    }
    let m = |k: &str| {
        report
            .metrics
            .get(k)
            .and_then(|e| e.value)
            .map_or_else(|| "–".into(), tierwise_eval::markdown::num)
    };
    let chance = report.permutation.as_ref().map_or_else(String::new, |t| {
        format!(
            ", its predictions dealt to random prompts {}, p = {:.2}",
            tierwise_eval::markdown::num(t.null_aiq),
            t.p_value
        )
    });
    println!(
        "{} prompts: router quality {} ({} of best tier `{}`) at {} of its cost; AIQ {} (zero \
         router {}{chance})\nwrote {}/report.json, report.md, curve.svg",
        report.prompts.used,
        m("quality"),
        m("quality_vs_best"),
        report.best_tier,
        m("cost_vs_best"),
        m("aiq"),
        m("zero_router_aiq"),
        args.out.display()
    );
    let within: Vec<String> = report
        .features
        .iter()
        .filter_map(|f| {
            let t = f.within_chance()?;
            Some(format!(
                "`{}` ({} prompts, p = {:.2})",
                f.feature, f.prompts, t.p_value
            ))
        })
        .collect();
    if !within.is_empty() {
        println!(
            "within chance by feature: {} (the router's choices there score no better than its \
             predictions dealt to random prompts of the feature)",
            within.join(", ")
        );
    }
    Ok(())
}

/// Run the router on the first logged row of each prompt, as a service would.
fn run_router(router: &Router, rows: &[tierwise_core::LogRow], table: &EvalTable) -> Predictions {
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        first.entry(r.prompt_id()).or_insert(i);
    }
    let bar = tierwise_core::progress::bar(table.len() as u64, "routing", false);
    let mut preds = Predictions {
        p: Vec::with_capacity(table.len() * table.n_tiers()),
        cost: Vec::with_capacity(table.len() * table.n_tiers()),
        chosen: Vec::with_capacity(table.len()),
        choosable: Vec::with_capacity(table.len() * table.n_tiers()),
    };
    let mut d = Decision::default();
    for id in &table.ids {
        let prompt = Prompt::from_row(&rows[first[id]]);
        router.decide_into(&prompt, &mut d);
        preds.p.extend(&d.p);
        preds.cost.extend(&d.expected_cost_usd);
        preds.chosen.push(d.tier_index);
        match router.choosable(&prompt) {
            [] => preds.choosable.extend(std::iter::repeat_n(true, d.p.len())),
            mask => preds.choosable.extend(mask),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if preds.choosable.iter().all(|&x| x) {
        preds.choosable.clear();
    }
    preds
}
