//! Shrinkage toward the prior. The served logit of tier t becomes `s · z_t + (1 − s) · r_t`:
//! `z_t` the ensemble's calibrated logit, `r_t` the logit of the tier's pass rate in training.
//! At s = 1 the prompt's features count in full; at s = 0 the router is the no-features prior
//! (the same tier for every prompt at a given λ). In between, the prior's ordering of the tiers
//! stays and the features move only the prompts they single out across it.
//!
//! Where the features say little about many tiers of similar quality (RouterBench MBPP: 11
//! tiers, ~300 prompts), full trust scatters prompts across tiers on noise and the router only
//! ties the prior; where they say much (GSM8K), shrinking loses. So the shrink is chosen per
//! log: the λ sweep is run out of bag for each candidate and scored by AIQ (metrics.md, through
//! `tierwise-eval`), and a shrink below 1 is kept only when it beats no shrink by a margin.
use rayon::prelude::*;
use tierwise_core::OutcomeTable;
use tierwise_router::policy::Platt;

use crate::baselines::smoothed_rates;
use crate::curve;
use crate::error::{Error, Result};

/// How much the features' logits are trusted against the prior.
#[derive(Debug, Clone, PartialEq)]
pub enum Shrink {
    /// This shrink (1: none, 0: the prior alone).
    Fixed(f64),
    /// The candidate with the best out-of-bag AIQ; one below 1 only if it beats 1 by `margin`
    /// (1 when too few out-of-bag prompts have every tier's outcome, [`choose_out_of_bag`]).
    OutOfBag {
        /// Candidates in (0, 1]; 1 is always tried.
        grid: Vec<f64>,
        /// AIQ a shrink below 1 must gain over no shrink to be kept.
        margin: f64,
    },
}

/// The default [`Shrink::OutOfBag`] margin. Out-of-bag AIQ differences between shrinks are
/// mostly noise on a few hundred prompts; with no margin the choice lost a little on the sets
/// where the features work (5-fold CV, 40 seeds) and gained as little on RouterBench MBPP;
/// with this one it kept 1 on those sets and gained the same on MBPP.
pub const MARGIN: f64 = 0.004;

impl Default for Shrink {
    fn default() -> Self {
        Shrink::OutOfBag {
            grid: vec![0.25, 0.5, 0.75],
            margin: MARGIN,
        }
    }
}

impl Shrink {
    /// An error unless every shrink is in [0, 1] (candidates in (0, 1)) and the margin ≥ 0.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Options(what));
        match self {
            Shrink::Fixed(s) if !(0.0..=1.0).contains(s) => {
                bad(format!("shrink {s} is not in [0, 1]"))
            }
            Shrink::OutOfBag { grid, .. } if grid.iter().any(|s| !(*s > 0.0 && *s < 1.0)) => bad(
                format!("shrink candidates {grid:?}: each must be in (0, 1)"),
            ),
            Shrink::OutOfBag { margin, .. } if margin.is_nan() || *margin < 0.0 => {
                bad(format!("shrink margin {margin} must be ≥ 0"))
            }
            _ => Ok(()),
        }
    }
}

/// Per tier, the logit of its smoothed pass rate ([`smoothed_rates`]) over `table`.
pub fn prior_logits(table: &OutcomeTable) -> Vec<f64> {
    smoothed_rates(table)
        .into_iter()
        .map(|r| (r / (1.0 - r)).ln())
        .collect()
}

/// The logit `z` shrunk by `s` toward the prior logit `r`: `s · z + (1 − s) · r`.
pub fn toward(z: f64, s: f64, r: f64) -> f64 {
    s * z + (1.0 - s) * r
}

/// The map `z ↦ s · z + (1 − s) · r` applied after `inner`.
pub fn after(inner: Platt, s: f64, r: f64) -> Platt {
    Platt {
        a: s * inner.a,
        b: toward(inner.b, s, r),
    }
}

/// Out-of-bag evidence for the choice: per fully observed prompt, the ensemble's logits, the
/// logged quality and cost of every tier, and the expected costs that drive the policy.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// `[prompts][tiers]` calibrated logits, each prompt's from the members it validated.
    pub logits: &'a [Vec<f64>],
    /// `[prompts][tiers]` logged quality.
    pub q: &'a [Vec<f64>],
    /// `[prompts][tiers]` logged cost.
    pub c: &'a [Vec<f64>],
    /// `[prompts][tiers]` expected cost.
    pub expected: &'a [&'a [f64]],
    /// Per prompt, the tiers it may go to (empty: every tier).
    pub choosable: &'a [&'a [bool]],
    /// The policy's cost scale.
    pub scale: f64,
}

impl Evidence<'_> {
    /// The out-of-bag AIQ of the router shrunk by `s` toward `prior`.
    pub fn aiq(&self, s: f64, prior: &[f64]) -> f64 {
        let probs: Vec<Vec<f32>> = self
            .logits
            .iter()
            .map(|z| {
                z.iter()
                    .zip(prior)
                    .map(|(&z, &r)| sigmoid(toward(z, s, r)))
                    .collect()
            })
            .collect();
        let p: Vec<&[f32]> = probs.iter().map(Vec::as_slice).collect();
        let points: Vec<(f64, f64)> = curve::sweep(
            self.q,
            self.c,
            &p,
            self.expected,
            self.choosable,
            self.scale,
        )
        .iter()
        .map(|pt| (pt.cost_usd, pt.quality))
        .collect();
        let singles = (0..prior.len())
            .map(|t| self.c.iter().map(|r| r[t]).sum::<f64>() / self.c.len().max(1) as f64);
        let (lo, hi) = singles.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        tierwise_eval::curve::aiq(&points, lo, hi)
    }
}

fn sigmoid(x: f64) -> f32 {
    (1.0 / (1.0 + (-x).exp())) as f32
}

/// The shrink `how` picks, given each candidate's out-of-bag AIQ (`score`), and every
/// candidate tried with its AIQ (`[s, aiq]` by s; none for a fixed shrink). The candidates are
/// scored in parallel.
pub fn choose(how: &Shrink, score: impl Fn(f64) -> f64 + Sync) -> (f64, Vec<[f64; 2]>) {
    let (grid, margin) = match how {
        Shrink::Fixed(s) => return (s.clamp(0.0, 1.0), Vec::new()),
        Shrink::OutOfBag { grid, margin } => (grid, *margin),
    };
    // Candidates outside (0, 1) are refused by [`Shrink::check`] before training.
    let candidates: Vec<f64> = std::iter::once(1.0)
        .chain(grid.iter().copied().filter(|&s| s > 0.0 && s < 1.0))
        .collect();
    let mut tried: Vec<[f64; 2]> = candidates.par_iter().map(|&s| [s, score(s)]).collect();
    let mut best = tried[0];
    for &[s, a] in &tried[1..] {
        if a > best[1].max(tried[0][1] + margin) {
            best = [s, a];
        }
    }
    tried.sort_by(|a, b| a[0].total_cmp(&b[0]));
    (best[0], tried)
}

/// [`choose`] on the out-of-bag prompts: `logits`, `expected` and `choosable` per judged
/// prompt, `logged` the fully observed ones among them. With fewer than [`curve::MIN_LOGGED`] of those (logs
/// where one tier answered each prompt) there is no AIQ to go by: [`Shrink::OutOfBag`] gives 1.
pub fn choose_out_of_bag(
    how: &Shrink,
    logits: &[Vec<f64>],
    logged: &curve::Outcomes,
    expected: &[Vec<f64>],
    choosable: &[&[bool]],
    scale: f64,
    prior: &[f64],
) -> (f64, Vec<[f64; 2]>) {
    if matches!(how, Shrink::OutOfBag { .. }) && logged.rows.len() < curve::MIN_LOGGED {
        return (1.0, Vec::new());
    }
    let z: Vec<Vec<f64>> = logged.rows.iter().map(|&i| logits[i].clone()).collect();
    let e: Vec<&[f64]> = logged
        .rows
        .iter()
        .map(|&i| expected[i].as_slice())
        .collect();
    let allowed: Vec<&[bool]> = logged.rows.iter().map(|&i| choosable[i]).collect();
    let evidence = Evidence {
        logits: &z,
        q: &logged.q,
        c: &logged.c,
        expected: &e,
        choosable: &allowed,
        scale,
    };
    choose(how, |s| evidence.aiq(s, prior))
}

/// Shrink the maps of one member (one per tier) by `s` toward `prior`: as the folded net
/// averages the members' maps, shrinking each shrinks the average.
pub fn apply(maps: &mut [Platt], s: f64, prior: &[f64]) {
    for (m, &r) in maps.iter_mut().zip(prior) {
        *m = after(*m, s, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tierwise_eval::curve::{aiq, upper_hull};

    #[test]
    fn after_shrinks_the_calibrated_logit_toward_the_prior() {
        let inner = Platt { a: 1.5, b: -0.25 };
        let m = after(inner, 0.4, 2.0);
        for z in [-3.0f32, 0.0, 0.7, 5.0] {
            let want = 0.4 * (1.5 * z as f64 - 0.25) + 0.6 * 2.0;
            assert!((m.a * z as f64 + m.b - want).abs() < 1e-12);
        }
        assert_eq!(after(inner, 1.0, 9.0), inner);
    }

    #[test]
    fn out_of_range_shrinks_are_refused() {
        assert!(Shrink::default().check().is_ok());
        assert!(Shrink::Fixed(0.0).check().is_ok() && Shrink::Fixed(1.0).check().is_ok());
        let grid = |grid: Vec<f64>, margin| Shrink::OutOfBag { grid, margin };
        for (how, want) in [
            (Shrink::Fixed(1.5), "shrink 1.5 is not in [0, 1]"),
            (Shrink::Fixed(f64::NAN), "shrink NaN is not in [0, 1]"),
            (
                grid(vec![0.5, 1.0], 0.0),
                "[0.5, 1.0]: each must be in (0, 1)",
            ),
            (grid(vec![0.5], -1.0), "margin -1 must be ≥ 0"),
        ] {
            let err = how.check().unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn a_shrink_below_one_must_beat_no_shrink_by_the_margin() {
        let peak = |s: f64| 0.70 - (s - 0.5).powi(2) * 0.01; // 0.7 at ½, 0.6975 at 1
        let how = |margin| Shrink::OutOfBag {
            grid: vec![0.25, 0.5, 0.75],
            margin,
        };
        let (s, tried) = choose(&how(0.0), peak);
        assert_eq!(s, 0.5);
        let grid: Vec<f64> = tried.iter().map(|t| t[0]).collect();
        assert_eq!(grid, [0.25, 0.5, 0.75, 1.0]);
        assert_eq!(tried[1][1], peak(0.5));
        assert_eq!(choose(&how(0.001), peak).0, 0.5);
        assert_eq!(choose(&how(0.003), peak).0, 1.0);
        assert_eq!(
            choose(&Shrink::Fixed(0.3), |_| unreachable!()),
            (0.3, vec![])
        );
    }

    /// Three tiers, costs by tier. Shrunk all the way (s = 0) the router
    /// is the prior: at every λ one tier for all prompts, so its AIQ is that of the single
    /// tiers' hull. At s = 1, logits that know which prompts the cheap tiers pass beat it.
    #[test]
    fn no_trust_is_the_prior_router_and_informed_logits_beat_it() {
        let n = 300;
        let pass = |i: usize, t: usize| match t {
            0 => i % 10 < 4,
            1 => i % 10 < 7,
            _ => i % 10 < 9,
        };
        let q: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..3).map(|t| pass(i, t) as u8 as f64).collect())
            .collect();
        let c: Vec<Vec<f64>> = vec![vec![1.0, 4.0, 20.0]; n];
        let expected: Vec<&[f64]> = c.iter().map(Vec::as_slice).collect();
        let logits: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..3)
                    .map(|t| if pass(i, t) { 2.0 } else { -2.0 })
                    .collect()
            })
            .collect();
        let prior = [0.4f64, 0.7, 0.9].map(|r| (r / (1.0 - r)).ln());
        let ev = Evidence {
            logits: &logits,
            q: &q,
            c: &c,
            expected: &expected,
            choosable: &[],
            scale: 20.0,
        };
        let mean = |m: &[Vec<f64>], t: usize| m.iter().map(|r| r[t]).sum::<f64>() / n as f64;
        let singles: Vec<(f64, f64)> = (0..3).map(|t| (mean(&c, t), mean(&q, t))).collect();
        let (lo, hi) = (singles[0].0, singles[2].0);
        let prior_router = aiq(&upper_hull(&singles), lo, hi);
        assert!((ev.aiq(0.0, &prior) - prior_router).abs() < 1e-9);
        assert!(ev.aiq(1.0, &prior) > prior_router + 0.05);
    }
}
