//! Point estimates with 95% bootstrap intervals: 1,000 (by default) resamples of prompts, each
//! drawn from its own seeded stream so a report is reproducible whatever the thread count.
use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::{Better, Evaluator, Sample};
use crate::table::{EvalTable, Predictions};

/// The fewest resamples a 95% interval is computed from: with fewer, its ends are a handful of
/// draws (with 1, both ends are that one draw and need not contain the point estimate).
pub const MIN_RESAMPLES: usize = 100;

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// Number of resamples (1,000 in reports; at least [`MIN_RESAMPLES`]).
    pub resamples: usize,
    /// Seed of the resampling.
    pub seed: u64,
}

impl BootstrapOptions {
    /// An error unless there are at least [`MIN_RESAMPLES`] resamples.
    pub fn check(&self) -> Result<()> {
        if self.resamples < MIN_RESAMPLES {
            return Err(Error::Invalid(format!(
                "{} bootstrap resamples are too few for a 95% interval: use at least \
                 {MIN_RESAMPLES}",
                self.resamples
            )));
        }
        Ok(())
    }
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            resamples: 1000,
            seed: 0,
        }
    }
}

/// A metric's value and its 95% interval. `None` where the metric is undefined (e.g. no router
/// point reaches Q*), or where the interval end falls on resamples in which it is undefined:
/// such an end is unbounded and a gate check on it fails.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The point estimate on every prompt.
    pub value: Option<f64>,
    /// 2.5th percentile over resamples.
    pub lo: Option<f64>,
    /// 97.5th percentile over resamples.
    pub hi: Option<f64>,
    /// Whether a larger value is better.
    pub higher_is_better: bool,
}

/// Everything [`evaluate`] measured.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Metrics on every prompt.
    pub point: Sample,
    /// Headline metrics by name, with intervals.
    pub metrics: BTreeMap<String, Estimate>,
    /// Q_t with intervals, per tier.
    pub tier_quality: Vec<Estimate>,
    /// C_t with intervals, per tier.
    pub tier_cost: Vec<Estimate>,
    /// The λ grid of the sweep.
    pub lambdas: Vec<f64>,
    /// ĉ_max used by the sweep.
    pub cost_scale: f64,
    /// The options used.
    pub options: BootstrapOptions,
}

/// Resample `r` of `n` prompts: how many times each prompt is drawn (n draws with replacement),
/// from its own seeded stream, so resample `r` is the same whatever the thread count. Paired
/// comparisons pass the same weights to two [`Evaluator`]s.
pub fn resample_weights(n: usize, seed: u64, r: usize) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(r as u64);
    let mut w = vec![0u32; n];
    for _ in 0..n {
        w[rng.random_range(0..n)] += 1;
    }
    w
}

/// Compute every metric on `table` with the router's `preds`, with bootstrap intervals.
pub fn evaluate(
    table: &EvalTable,
    preds: &Predictions,
    options: BootstrapOptions,
) -> Result<Evaluation> {
    options.check()?;
    if table.is_empty() {
        return Err(Error::Invalid(
            "no prompt has a score and a cost for every tier: nothing to evaluate".into(),
        ));
    }
    preds.check(table)?;
    let ev = Evaluator::new(table, preds);
    let point = ev.sample(None);
    let flat = |s: &Sample| -> Vec<Option<f64>> {
        let mut v: Vec<Option<f64>> = s.scalars().into_iter().map(|x| x.1).collect();
        v.extend(s.tier_quality.iter().map(|&x| Some(x)));
        v.extend(s.tier_cost.iter().map(|&x| Some(x)));
        v
    };
    let n = table.len();
    let draws: Vec<Vec<Option<f64>>> = (0..options.resamples)
        .into_par_iter()
        .map(|r| flat(&ev.sample(Some(&resample_weights(n, options.seed, r)))))
        .collect();
    let values = flat(&point);
    let scalars = point.scalars();
    let nt = table.n_tiers();
    let better: Vec<Better> = scalars
        .iter()
        .map(|s| s.2)
        .chain(std::iter::repeat_n(Better::Higher, nt))
        .chain(std::iter::repeat_n(Better::Lower, nt))
        .collect();
    let estimates: Vec<Estimate> = (0..values.len())
        .map(|i| interval(values[i], draws.iter().map(|d| d[i]), better[i]))
        .collect();
    // APGR and CPT exist only for two tiers: leave them out otherwise, so a gate naming them
    // errors instead of comparing against nothing.
    let metrics = scalars
        .iter()
        .zip(&estimates)
        .filter(|(s, _)| nt == 2 || !matches!(s.0, "apgr" | "cpt50" | "cpt80"))
        .map(|(s, e)| (s.0.to_string(), *e))
        .collect();
    let k = scalars.len();
    Ok(Evaluation {
        metrics,
        tier_quality: estimates[k..k + nt].to_vec(),
        tier_cost: estimates[k + nt..].to_vec(),
        lambdas: ev.lambdas.clone(),
        cost_scale: ev.cost_scale,
        point,
        options,
    })
}

/// Percentile interval (2.5%, 97.5%); an undefined resample counts as the worst possible value.
fn interval(
    value: Option<f64>,
    draws: impl Iterator<Item = Option<f64>>,
    better: Better,
) -> Estimate {
    let worst = match better {
        Better::Higher => f64::NEG_INFINITY,
        Better::Lower => f64::INFINITY,
    };
    let mut v: Vec<f64> = draws.map(|d| d.unwrap_or(worst)).collect();
    v.sort_by(f64::total_cmp);
    let pick = |q: f64| -> Option<f64> {
        if v.is_empty() {
            return None;
        }
        let x = v[((v.len() - 1) as f64 * q).round() as usize];
        x.is_finite().then_some(x)
    };
    Estimate {
        value,
        lo: pick(0.025),
        hi: pick(0.975),
        higher_is_better: better == Better::Higher,
    }
}
