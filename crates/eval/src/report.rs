//! `report.json`: every metric with its interval, the per-tier table, the router at its
//! operating point (realised vs predicted), the permutation test of its AIQ, the curves, a
//! per-`feature` breakdown, prompt counts and the leakage check. [`write`] also renders `report.md` and `curve.svg` next to it.
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bootstrap::{Estimate, Evaluation};
use crate::curve::{self, Point};
use crate::drift;
use crate::error::{Error, Result};
use crate::leakage::Leakage;
use crate::metrics::Evaluator;
use crate::null::{self, PermutationTest};
use crate::table::{EvalTable, Predictions, PromptCounts};

/// Version of the report layout.
pub const REPORT_VERSION: u32 = 1;

/// What was evaluated, and how the router was configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The held-out log files.
    pub logs: Vec<String>,
    /// The router artifact directory, when evaluated through `tierwise-router`.
    pub model: Option<String>,
    /// The decisions file, when scoring decisions made elsewhere.
    pub decisions: Option<String>,
    /// The router's calibration target (e.g. `quality=0.98`).
    pub target: Option<String>,
    /// The λ in force.
    pub lambda: Option<f64>,
    /// The artifact's predicted (validation) quality at that λ.
    pub predicted_quality: Option<f64>,
    /// The artifact's predicted (validation) mean cost at that λ.
    pub predicted_cost: Option<f64>,
    /// The prompts those predictions were made on (out of bag).
    pub predicted_prompts: Option<usize>,
    /// The standard error of the predicted quality (over those prompts), when the artifact
    /// holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_quality_se: Option<f64>,
    /// The standard error of the predicted mean cost, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_cost_se: Option<f64>,
}

/// One row of the per-tier table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierRow {
    /// Tier name.
    pub name: String,
    /// Q_t.
    pub quality: Estimate,
    /// C_t.
    pub cost: Estimate,
    /// Share of prompts where this is the cheapest tier that passes (score ≥ pass mark).
    pub cheapest_passing_share: f64,
    /// Share of prompts the router sends here at its operating point.
    pub routed_share: f64,
}

/// The router at its operating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// The λ in force (unknown for decisions made elsewhere).
    pub lambda: Option<f64>,
    /// The calibration target.
    pub target: Option<String>,
    /// Mean logged quality of the chosen tiers.
    pub realised_quality: f64,
    /// Mean logged cost of the chosen tiers.
    pub realised_cost: f64,
    /// What the artifact predicted on its validation split.
    pub predicted_quality: Option<f64>,
    /// What the artifact predicted on its validation split.
    pub predicted_cost: Option<f64>,
}

/// A labelled point of the curve plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierPoint {
    /// Tier name.
    pub name: String,
    /// C_t.
    pub cost: f64,
    /// Q_t.
    pub quality: f64,
}

/// The curves behind `curve.svg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// ĉ_max of the sweep.
    pub cost_scale: f64,
    /// (λ, mean cost, mean quality) of the sweep.
    pub router: Vec<(f64, f64, f64)>,
    /// The non-decreasing upper hull of the router's points (what AIQ integrates).
    pub router_hull: Vec<Point>,
    /// The zero router: upper convex hull of the single tiers.
    pub zero_router_hull: Vec<Point>,
    /// Single tiers.
    pub tiers: Vec<TierPoint>,
    /// The oracle (mean cost, mean quality).
    pub oracle: Point,
}

/// Metrics of the prompts of one `feature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    /// The feature tag (`(none)` for untagged prompts).
    pub feature: String,
    /// Prompts.
    pub prompts: usize,
    /// Router quality at its operating point.
    pub router_quality: f64,
    /// Router mean cost at its operating point.
    pub router_cost: f64,
    /// The best single tier on these prompts.
    pub best_tier: String,
    /// Its quality.
    pub best_tier_quality: f64,
    /// Its mean cost.
    pub best_tier_cost: f64,
    /// Oracle quality.
    pub oracle_quality: f64,
    /// The router's AIQ on these prompts (over their own cost range); absent in reports
    /// written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aiq: Option<f64>,
    /// The permutation test on these prompts alone ([`null::test`], the report's seed and
    /// count): whether the router learned anything from the prompts of this feature. Absent
    /// when the eval ran with no permutations. Informative only: no warning, and no gate
    /// reads it, since a small feature's test has little power.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permutation: Option<PermutationTest>,
}

impl FeatureRow {
    /// This feature's permutation test, when it ran and found the router within chance.
    pub fn within_chance(&self) -> Option<&PermutationTest> {
        self.permutation.as_ref().filter(|t| t.within_chance())
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// tierwise version that wrote it.
    pub tierwise_version: String,
    /// What was evaluated.
    pub context: Context,
    /// Tier names, cheapest first.
    pub tiers: Vec<String>,
    /// The best single tier.
    pub best_tier: String,
    /// Prompts used and left out, and why.
    pub prompts: PromptCounts,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// Headline metrics with 95% intervals, by name.
    pub metrics: BTreeMap<String, Estimate>,
    /// The per-tier table.
    pub tier_table: Vec<TierRow>,
    /// Share of prompts no tier passes.
    pub no_tier_passes_share: f64,
    /// Prompts for which the router could choose only some of the tiers (its per-tag list,
    /// `choosable` in `router.json` and in `tierwise route`'s decisions); 0 when it chose freely.
    #[serde(default)]
    pub narrowed_prompts: usize,
    /// The router at its operating point.
    pub operating_point: OperatingPoint,
    /// The router's AIQ against its own predictions dealt to the wrong prompts ([`null`]);
    /// absent when the eval ran with no permutations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permutation: Option<PermutationTest>,
    /// Per-feature breakdown (only when some prompt has a feature).
    pub features: Vec<FeatureRow>,
    /// Leakage check (absent when the router recorded no training fingerprints).
    pub leakage: Option<Leakage>,
    /// Warnings a reader must see.
    pub warnings: Vec<String>,
    /// The curves.
    pub curves: Curves,
}

impl Report {
    /// Assemble a report, with the permutation test of `permutations` draws (0: none; a
    /// report's default is [`null::PERMUTATIONS`]).
    pub fn build(
        table: &EvalTable,
        counts: PromptCounts,
        preds: &Predictions,
        eval: &Evaluation,
        context: Context,
        leakage: Option<Leakage>,
        permutations: usize,
    ) -> Report {
        let (n, nt) = (table.len() as f64, table.n_tiers());
        let mut cheapest = vec![0usize; nt];
        let mut none = 0usize;
        for p in 0..table.len() {
            let pass = (0..nt).filter(|&t| table.q(p, t) >= table.pass_marks[t]);
            match pass.min_by(|&a, &b| table.c(p, a).total_cmp(&table.c(p, b)).then(a.cmp(&b))) {
                Some(t) => cheapest[t] += 1,
                None => none += 1,
            }
        }
        let mut routed = vec![0usize; nt];
        for &t in &preds.chosen {
            routed[t] += 1;
        }
        let s = &eval.point;
        let tier_table = (0..nt)
            .map(|t| TierRow {
                name: table.tiers[t].clone(),
                quality: eval.tier_quality[t],
                cost: eval.tier_cost[t],
                cheapest_passing_share: cheapest[t] as f64 / n,
                routed_share: routed[t] as f64 / n,
            })
            .collect();
        let mut warnings = Vec::new();
        if let Some(w) = leakage.as_ref().and_then(Leakage::warning) {
            warnings.push(w);
        }
        let permutation =
            (permutations > 0).then(|| null::test(table, preds, permutations, eval.options.seed));
        warnings.extend(permutation.as_ref().and_then(PermutationTest::warning));
        let skipped = counts.in_logs - counts.used;
        if skipped > 0 {
            warnings.push(format!(
                "{skipped} of {} prompts left out ({} missing a score, {} missing a cost, {} without \
                 a decision)",
                counts.in_logs,
                counts.skipped_missing_score,
                counts.skipped_missing_cost,
                counts.skipped_no_decision
            ));
        }
        // Only when the router itself decided at the artifact's λ does its prediction apply.
        if let Some(lambda) = context.lambda {
            let check =
                |what, name: &str, predicted, predicted_se, higher_is_better| drift::Check {
                    what,
                    realised: eval.metrics.get(name),
                    predicted,
                    predicted_se,
                    higher_is_better,
                };
            let checks = [
                check(
                    "quality",
                    "quality",
                    context.predicted_quality,
                    context.predicted_quality_se,
                    true,
                ),
                check(
                    "mean cost",
                    "cost",
                    context.predicted_cost,
                    context.predicted_cost_se,
                    false,
                ),
            ];
            warnings.extend(drift::warnings(
                &checks,
                counts.used,
                context.predicted_prompts,
                lambda,
            ));
        }
        let tiers: Vec<TierPoint> = (0..nt)
            .map(|t| TierPoint {
                name: table.tiers[t].clone(),
                cost: s.tier_cost[t],
                quality: s.tier_quality[t],
            })
            .collect();
        let tier_xy: Vec<Point> = tiers.iter().map(|t| (t.cost, t.quality)).collect();
        Report {
            report_version: REPORT_VERSION,
            tierwise_version: env!("CARGO_PKG_VERSION").to_string(),
            tiers: table.tiers.clone(),
            best_tier: table.tiers[s.best_tier].clone(),
            prompts: counts,
            resamples: eval.options.resamples,
            seed: eval.options.seed,
            metrics: eval.metrics.clone(),
            tier_table,
            no_tier_passes_share: none as f64 / n,
            narrowed_prompts: (0..table.len())
                .filter(|&p| preds.choosable_row(p, nt).contains(&false))
                .count(),
            operating_point: OperatingPoint {
                lambda: context.lambda,
                target: context.target.clone(),
                realised_quality: s.operating.1,
                realised_cost: s.operating.0,
                predicted_quality: context.predicted_quality,
                predicted_cost: context.predicted_cost,
            },
            permutation,
            features: features(table, preds, permutations, eval.options.seed),
            leakage,
            warnings,
            curves: Curves {
                cost_scale: eval.cost_scale,
                router: eval
                    .lambdas
                    .iter()
                    .zip(&s.router_points)
                    .map(|(&l, &(c, q))| (l, c, q))
                    .collect(),
                router_hull: curve::nondecreasing_hull(&s.router_points),
                zero_router_hull: curve::upper_hull(&tier_xy),
                tiers,
                oracle: s.oracle,
            },
            context,
        }
    }

    /// Read a report written by [`write`].
    pub fn read(path: impl AsRef<Path>) -> Result<Report> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Report {
            file: path.display().to_string(),
            reason: e.to_string(),
        })
    }
}

fn features(
    table: &EvalTable,
    preds: &Predictions,
    permutations: usize,
    seed: u64,
) -> Vec<FeatureRow> {
    if table.features.iter().all(Option::is_none) {
        return Vec::new();
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (p, f) in table.features.iter().enumerate() {
        let key = f.clone().unwrap_or_else(|| "(none)".into());
        groups.entry(key).or_default().push(p);
    }
    groups
        .into_iter()
        .map(|(feature, idx)| {
            let sub = table.select(&idx);
            let sp = preds.select(&idx, table.n_tiers());
            let s = Evaluator::new(&sub, &sp).sample(None);
            FeatureRow {
                feature,
                prompts: idx.len(),
                router_quality: s.operating.1,
                router_cost: s.operating.0,
                best_tier: sub.tiers[s.best_tier].clone(),
                best_tier_quality: s.tier_quality[s.best_tier],
                best_tier_cost: s.tier_cost[s.best_tier],
                oracle_quality: s.oracle.1,
                aiq: Some(s.aiq),
                permutation: (permutations > 0).then(|| null::test(&sub, &sp, permutations, seed)),
            }
        })
        .collect()
}

/// Write `report.json`, `report.md` (side by side with `baseline` when given) and `curve.svg`
/// into `dir` (created if needed).
pub fn write(dir: &Path, report: &Report, baseline: Option<&Report>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json = serde_json::to_string_pretty(report).expect("a report serialises");
    let path = dir.join("report.json");
    std::fs::write(&path, json + "\n").map_err(|e| Error::io(&path, e))?;
    let path = dir.join("report.md");
    std::fs::write(&path, crate::markdown::render(report, baseline))
        .map_err(|e| Error::io(&path, e))?;
    crate::plot::draw(report, &dir.join("curve.svg"))
}
