//! Calibration, expected cost and the routing policy of `metrics.md`:
//! pick argmax_t (p_t − λ · ĉ_t / ĉ_max), ties to the cheaper (lower-index) tier.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::artifact::{CurvePoint, Predicted, SingleTier};
use crate::error::Error;

/// Platt scaling of one tier: p = σ(a · logit + b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    /// Slope.
    pub a: f64,
    /// Intercept.
    pub b: f64,
}

impl Platt {
    /// Identity calibration.
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    /// Calibrated probability of a raw logit.
    #[inline]
    pub fn apply(&self, logit: f32) -> f32 {
        let z = self.a * logit as f64 + self.b;
        (1.0 / (1.0 + (-z).exp())) as f32
    }
}

/// Expected cost of one tier for a prompt: `max(intercept + per_input_token · tokens, floor)`,
/// where `tokens` is [`tierwise_core::text::estimate_tokens`] of the routing text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierCost {
    /// `logged_fit` (least squares of logged `cost_usd` on prompt tokens) or `prices`
    /// (config prices × prompt tokens + price × the tier's mean logged output tokens).
    pub basis: String,
    /// USD per call independent of the prompt length.
    pub intercept: f64,
    /// USD per prompt token.
    pub per_input_token: f64,
    /// Lower bound (USD), so a fit never predicts a negative cost.
    pub floor: f64,
}

impl TierCost {
    /// Expected cost in USD for a prompt of `tokens` estimated tokens.
    #[inline]
    pub fn cost(&self, tokens: f64) -> f64 {
        (self.intercept + self.per_input_token * tokens).max(self.floor)
    }
}

/// What λ should achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The cheapest λ whose validation quality ≥ f × the best single tier's quality.
    Quality(f64),
    /// The best quality at ≤ f × the best single tier's cost.
    Cost(f64),
    /// Exactly this λ.
    Lambda(f64),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Quality(x) => write!(f, "quality={x}"),
            Target::Cost(x) => write!(f, "cost={x}"),
            Target::Lambda(x) => write!(f, "lambda={x}"),
        }
    }
}

impl FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Invalid(format!(
                "target `{s}`: expected quality=F, cost=F (0 < F) or lambda=X (X ≥ 0)"
            ))
        };
        let (k, v) = s.split_once('=').ok_or_else(bad)?;
        let v: f64 = v.trim().parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 {
            return Err(bad());
        }
        match k.trim() {
            "quality" if v > 0.0 => Ok(Target::Quality(v)),
            "cost" if v > 0.0 => Ok(Target::Cost(v)),
            "lambda" => Ok(Target::Lambda(v)),
            _ => Err(bad()),
        }
    }
}

/// The λ values of the sweep (metrics.md): 0, then 201 log-spaced values from 1e-4 to 100
/// (one every 0.03 decades, so every power of ten is on the grid). The eval sweeps the same grid.
pub fn lambda_grid() -> Vec<f64> {
    std::iter::once(0.0)
        .chain((0..=200).map(|i| 10f64.powf(-4.0 + 6.0 * i as f64 / 200.0)))
        .collect()
}

/// ĉ_max, the `scale` of [`choose`]: the largest mean expected cost of any tier over `rows`
/// (one slice of `tiers` expected costs per prompt). 1 when every expected cost is 0 (or there
/// are no rows), so the policy stays defined (λ then has no effect). Training stores it in the
/// artifact; the eval computes it the same way from a run's predictions.
pub fn cost_scale<'a>(rows: impl IntoIterator<Item = &'a [f64]>, tiers: usize) -> f64 {
    let mut sums = vec![0.0; tiers];
    let mut n = 0usize;
    for row in rows {
        sums.iter_mut().zip(row).for_each(|(s, c)| *s += c);
        n += 1;
    }
    let max = sums.iter().map(|s| s / n.max(1) as f64).fold(0.0, f64::max);
    if max > 0.0 {
        max
    } else {
        1.0
    }
}

/// The policy: argmax_t (p_t − λ · ĉ_t / scale). Ties go to the tier with the lower expected
/// cost ĉ_t, then to the lower index. A non-positive `scale` counts as 1. Serving, training and
/// the eval all choose through this one function (or [`choose_among`]).
#[inline]
pub fn choose(p: &[f32], cost: &[f64], lambda: f64, scale: f64) -> usize {
    choose_among(p, cost, &[], lambda, scale)
}

/// [`choose`] over the tiers with `choosable[t]` true (metrics.md's "tiers the router can
/// choose"); an empty `choosable`, or one that allows no tier, allows every tier.
#[inline]
pub fn choose_among(p: &[f32], cost: &[f64], choosable: &[bool], lambda: f64, scale: f64) -> usize {
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let all = !choosable.contains(&true);
    let mut best = usize::MAX;
    let mut best_v = f64::NEG_INFINITY;
    for (t, (&pt, &ct)) in p.iter().zip(cost).enumerate() {
        if !all && !choosable[t] {
            continue;
        }
        let v = pt as f64 - lambda * ct / scale;
        if best == usize::MAX || v > best_v || (v == best_v && ct < cost[best]) {
            best_v = v;
            best = t;
        }
    }
    if best == usize::MAX {
        0
    } else {
        best
    }
}

/// The tiers the no-features prior chooses somewhere on the λ sweep ([`lambda_grid`]): the
/// policy run on each tier's pass rate `rates[t]` and mean expected cost `costs[t]` (the upper
/// cost–quality hull of the single tiers, as the sweep sees it). A tier off it is, at every λ,
/// beaten by a tier the prior chooses; [`crate::artifact::Choosable`] keeps a router to these.
pub fn prior_choices(rates: &[f64], costs: &[f64]) -> Vec<bool> {
    let p: Vec<f32> = rates.iter().map(|&r| r as f32).collect();
    let scale = costs.iter().copied().fold(0.0, f64::max);
    let mut out = vec![false; p.len()];
    for lambda in lambda_grid() {
        out[choose(&p, costs, lambda, scale)] = true;
    }
    out
}

/// The best single tier: highest quality, ties to the cheaper.
pub fn best_single(tiers: &[SingleTier]) -> Option<&SingleTier> {
    tiers
        .iter()
        .fold(None, |best: Option<&SingleTier>, t| match best {
            Some(b)
                if b.quality > t.quality
                    || (b.quality == t.quality && b.cost_usd <= t.cost_usd) =>
            {
                Some(b)
            }
            _ => Some(t),
        })
}

/// Whether `predicted` (a curve point's figures) meets `target` against the best of `singles`,
/// with [`pick_lambda`]'s tolerance. A λ target always does; with no single tier, nothing does.
/// [`pick_lambda`] falls back to the best quality (or the lowest cost) when no point meets it.
pub fn meets(target: Target, predicted: &Predicted, singles: &[SingleTier]) -> bool {
    let Some(best) = best_single(singles) else {
        return false;
    };
    match target {
        Target::Lambda(_) => true,
        Target::Quality(f) => predicted.quality >= f * best.quality - 1e-12,
        Target::Cost(f) => predicted.cost_usd <= f * best.cost_usd + 1e-15,
    }
}

/// Pick λ for `target` from a validation curve; returns λ and the curve's figures there.
pub fn pick_lambda(
    curve: &[CurvePoint],
    singles: &[SingleTier],
    target: Target,
) -> Option<(f64, Predicted)> {
    let pred = |c: &CurvePoint| {
        (
            c.lambda,
            Predicted {
                quality: c.quality,
                cost_usd: c.cost_usd,
                quality_se: c.quality_se,
                cost_usd_se: c.cost_usd_se,
            },
        )
    };
    best_single(singles)?;
    let by_quality = |a: &&CurvePoint, b: &&CurvePoint| {
        a.quality
            .total_cmp(&b.quality)
            .then(b.cost_usd.total_cmp(&a.cost_usd))
    };
    let point = match target {
        Target::Lambda(l) => curve.iter().min_by(|a, b| {
            let d = |x: f64| ((x + 1e-6).ln() - (l + 1e-6).ln()).abs();
            d(a.lambda).total_cmp(&d(b.lambda))
        }),
        Target::Quality(_) => curve
            .iter()
            .filter(|c| meets(target, &pred(c).1, singles))
            .min_by(|a, b| {
                a.cost_usd
                    .total_cmp(&b.cost_usd)
                    .then(b.quality.total_cmp(&a.quality))
            })
            .or_else(|| curve.iter().max_by(by_quality)),
        Target::Cost(_) => curve
            .iter()
            .filter(|c| meets(target, &pred(c).1, singles))
            .max_by(by_quality)
            .or_else(|| {
                curve
                    .iter()
                    .min_by(|a, b| a.cost_usd.total_cmp(&b.cost_usd))
            }),
    }?;
    let (l, p) = pred(point);
    Some((if let Target::Lambda(x) = target { x } else { l }, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_choose_prefers_cheaper_on_ties() {
        assert_eq!(
            "quality=0.98".parse::<Target>().unwrap(),
            Target::Quality(0.98)
        );
        assert_eq!("cost=0.4".parse::<Target>().unwrap(), Target::Cost(0.4));
        assert!("speed=1".parse::<Target>().is_err());
        assert!("quality=-1".parse::<Target>().is_err());
        assert_eq!(choose(&[0.5, 0.5], &[1.0, 2.0], 0.0, 2.0), 0);
        assert_eq!(choose(&[0.5, 0.9], &[1.0, 2.0], 0.0, 2.0), 1);
        assert_eq!(choose(&[0.5, 0.9], &[1.0, 2.0], 1.0, 2.0), 0);
        // Ties: the lower expected cost wins even when it is not the lower index.
        assert_eq!(choose(&[0.5, 0.5], &[3.0, 1.0], 0.0, 3.0), 1);
        let g = lambda_grid();
        assert_eq!(g.len(), 202);
        assert!((g[1] - 1e-4).abs() < 1e-12 && (g[201] - 100.0).abs() < 1e-9);
        assert!((g[101] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn choose_among_skips_tiers_it_may_not_choose() {
        let (p, c) = ([0.5, 0.9, 0.95], [1.0, 2.0, 10.0]);
        assert_eq!(choose_among(&p, &c, &[true, false, true], 0.0, 10.0), 2);
        assert_eq!(choose_among(&p, &c, &[true, false, true], 1.0, 10.0), 0);
        assert_eq!(choose_among(&p, &c, &[true, true, true], 1.0, 10.0), 1);
        // Empty, or nothing allowed: every tier.
        assert_eq!(choose_among(&p, &c, &[], 1.0, 10.0), 1);
        assert_eq!(choose_among(&p, &c, &[false; 3], 1.0, 10.0), 1);
    }

    #[test]
    fn the_prior_chooses_the_tiers_on_the_cost_quality_hull() {
        // RouterBench MBPP's shape: d about as good as c at 18 times the cost, below the line
        // from c to e (a mix of c and e beats it at its cost); a, b, c and e are on the hull.
        let rates = [0.33, 0.52, 0.64, 0.642, 0.686];
        let costs = [0.05, 0.15, 0.33, 5.9, 9.4];
        assert_eq!(
            prior_choices(&rates, &costs),
            [true, true, true, false, true]
        );
        // Above that line d is chosen; a tier dearer and no better (b here) never is.
        let rates = [0.33, 0.52, 0.64, 0.68, 0.686];
        assert_eq!(prior_choices(&rates, &costs), [true; 5]);
        assert_eq!(
            prior_choices(&[0.5, 0.5, 0.9], &[1.0, 2.0, 3.0]),
            [true, false, true]
        );
    }

    #[test]
    fn cost_scale_is_the_dearest_tier_mean_or_one() {
        let rows = [[1.0, 2.0], [3.0, 4.0], [2.0, 0.0]];
        assert_eq!(cost_scale(rows.iter().map(|r| &r[..]), 2), 2.0);
        assert_eq!(cost_scale([&[0.0, 0.0][..]], 2), 1.0);
        assert_eq!(cost_scale(std::iter::empty(), 3), 1.0);
    }

    #[test]
    fn lambda_pick_follows_target() {
        let pt = |lambda, quality, cost_usd| CurvePoint {
            lambda,
            quality,
            cost_usd,
            quality_se: Some(quality / 100.0),
            cost_usd_se: None,
        };
        let curve = [pt(0.0, 0.9, 10.0), pt(0.1, 0.89, 5.0), pt(1.0, 0.7, 1.0)];
        let singles = [
            SingleTier {
                tier: "s".into(),
                quality: 0.6,
                cost_usd: 1.0,
            },
            SingleTier {
                tier: "l".into(),
                quality: 0.9,
                cost_usd: 10.0,
            },
        ];
        let (l, p) = pick_lambda(&curve, &singles, Target::Quality(0.98)).unwrap();
        assert_eq!((l, p.cost_usd), (0.1, 5.0));
        // The point's standard errors come with it.
        assert_eq!((p.quality_se, p.cost_usd_se), (Some(0.0089), None));
        let (l, _) = pick_lambda(&curve, &singles, Target::Cost(0.2)).unwrap();
        assert_eq!(l, 1.0);
        let (l, p) = pick_lambda(&curve, &singles, Target::Lambda(0.09)).unwrap();
        assert_eq!((l, p.quality), (0.09, 0.89));
        // Out of reach: the best quality, or the lowest cost, and `meets` says it is missed.
        for (target, want, met) in [
            (Target::Quality(0.98), 0.1, true),
            (Target::Quality(1.5), 0.0, false),
            (Target::Cost(0.05), 1.0, false),
            (Target::Cost(0.1), 1.0, true),
            (Target::Lambda(7.0), 7.0, true),
        ] {
            let (l, p) = pick_lambda(&curve, &singles, target).unwrap();
            assert_eq!(l, want, "{target}");
            assert_eq!(meets(target, &p, &singles), met, "{target}");
        }
        assert!(!meets(Target::Lambda(0.0), &curve_point_figures(), &[]));
    }

    fn curve_point_figures() -> Predicted {
        Predicted {
            quality: 1.0,
            cost_usd: 0.0,
            quality_se: None,
            cost_usd_se: None,
        }
    }
}
