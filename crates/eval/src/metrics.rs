//! The metrics of `docs/metrics.md` for one (possibly bootstrap-weighted) set of prompts: single
//! tiers, best tier, oracle, zero router, the router's λ sweep, AIQ, cost_at_best, quality at
//! 50% / 20% cost, and for two tiers APGR and CPT(50/80%).
//!
//! The router's decisions do not depend on which prompts a resample holds, so [`Evaluator::new`]
//! works them out once (per prompt, the λ ranges over which each tier is chosen) and
//! [`Evaluator::sample`] only sums logged scores and costs with per-prompt weights (1 for the
//! point estimate, bootstrap counts for a resample).
use rayon::prelude::*;

use crate::curve::{self, Point};
use crate::table::{EvalTable, Predictions};

/// Tolerance for "quality ≥ Q*" and "cost ≤ x · C*" comparisons between means.
const EPS: f64 = 1e-12;

/// The metrics of one weighted set of prompts.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Q_t: mean quality of always sending to tier t.
    pub tier_quality: Vec<f64>,
    /// C_t: mean cost of always sending to tier t.
    pub tier_cost: Vec<f64>,
    /// The tier with the highest Q_t (ties: lower C_t, then lower index).
    pub best_tier: usize,
    /// The oracle's (mean cost, mean quality).
    pub oracle: Point,
    /// The router's (mean cost, mean quality) at each λ of the grid.
    pub router_points: Vec<Point>,
    /// The router at its own operating point (the tiers it actually chose).
    pub operating: Point,
    /// AIQ of the router's points over [min C_t, max C_t].
    pub aiq: f64,
    /// AIQ of the zero router (the single-tier points), same range.
    pub zero_router_aiq: f64,
    /// Lowest cost of a router point reaching Q*, over C*.
    pub cost_at_best: Option<f64>,
    /// Highest router quality at mean cost ≤ 0.5 · C*.
    pub quality_at_50pct_cost: Option<f64>,
    /// Highest router quality at mean cost ≤ 0.2 · C*.
    pub quality_at_20pct_cost: Option<f64>,
    /// Two tiers only: area under PGR over the share sent to the strong tier.
    pub apgr: Option<f64>,
    /// Two tiers only: smallest share whose PGR ≥ 0.5.
    pub cpt50: Option<f64>,
    /// Two tiers only: smallest share whose PGR ≥ 0.8.
    pub cpt80: Option<f64>,
}

/// Whether a larger value of a metric is better (decides which interval end a gate uses and
/// where an undefined resample sorts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Larger is better.
    Higher,
    /// Smaller is better.
    Lower,
}

impl Sample {
    /// The headline scalars, by report name, with their direction.
    pub fn scalars(&self) -> Vec<(&'static str, Option<f64>, Better)> {
        use Better::*;
        let q_star = self.tier_quality[self.best_tier];
        let c_star = self.tier_cost[self.best_tier];
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        vec![
            ("quality", Some(self.operating.1), Higher),
            ("cost", Some(self.operating.0), Lower),
            ("quality_vs_best", ratio(self.operating.1, q_star), Higher),
            ("cost_vs_best", ratio(self.operating.0, c_star), Lower),
            ("aiq", Some(self.aiq), Higher),
            ("zero_router_aiq", Some(self.zero_router_aiq), Higher),
            // Paired within each resample, so its interval is much tighter than the two AIQs'.
            (
                "aiq_vs_zero_router",
                Some(self.aiq - self.zero_router_aiq),
                Higher,
            ),
            ("cost_at_best", self.cost_at_best, Lower),
            ("quality_at_50pct_cost", self.quality_at_50pct_cost, Higher),
            ("quality_at_20pct_cost", self.quality_at_20pct_cost, Higher),
            ("apgr", self.apgr, Higher),
            ("cpt50", self.cpt50, Lower),
            ("cpt80", self.cpt80, Lower),
            ("best_tier_quality", Some(q_star), Higher),
            ("best_tier_cost", Some(c_star), Lower),
            ("oracle_quality", Some(self.oracle.1), Higher),
            ("oracle_cost", Some(self.oracle.0), Lower),
        ]
    }
}

/// Decisions worked out once for a table and a router's predictions.
#[derive(Debug, Clone)]
pub struct Evaluator<'a> {
    table: &'a EvalTable,
    preds: &'a Predictions,
    /// The λ grid of the sweep.
    pub lambdas: Vec<f64>,
    /// ĉ_max over the table's prompts.
    pub cost_scale: f64,
    /// Per prompt, `segs[seg_start[p]..seg_start[p + 1]]` = (first λ index, tier) where the
    /// choice changes.
    seg_start: Vec<usize>,
    segs: Vec<(u16, u16)>,
    oracle: Vec<usize>,
    /// Two tiers: prompts by preference for the strong tier, and where each tie group ends.
    ranking: Option<(Vec<usize>, Vec<usize>)>,
}

impl<'a> Evaluator<'a> {
    /// Work out every decision. `preds` must match `table` (see [`Predictions::check`]).
    pub fn new(table: &'a EvalTable, preds: &'a Predictions) -> Evaluator<'a> {
        let nt = table.n_tiers();
        let lambdas = curve::lambda_grid();
        let cost_scale = curve::cost_scale(preds.cost.chunks(nt.max(1)), nt);
        let per_prompt: Vec<Vec<(u16, u16)>> = (0..table.len())
            .into_par_iter()
            .map(|p| {
                let r = p * nt..(p + 1) * nt;
                let allowed = preds.choosable_row(p, nt);
                segments(
                    &preds.p[r.clone()],
                    &preds.cost[r],
                    allowed,
                    &lambdas,
                    cost_scale,
                )
            })
            .collect();
        let mut seg_start = Vec::with_capacity(table.len() + 1);
        let mut segs = Vec::with_capacity(per_prompt.iter().map(Vec::len).sum());
        for v in per_prompt {
            seg_start.push(segs.len());
            segs.extend(v);
        }
        seg_start.push(segs.len());
        let oracle = (0..table.len())
            .map(|p| {
                (0..nt).fold(0, |b, t| {
                    let (qt, qb) = (table.q(p, t), table.q(p, b));
                    if qt > qb || (qt == qb && table.c(p, t) < table.c(p, b)) {
                        t
                    } else {
                        b
                    }
                })
            })
            .collect();
        let ranking = (nt == 2).then(|| {
            let pref = |p: usize| preds.p[p * 2 + 1] as f64 - preds.p[p * 2] as f64;
            let mut order: Vec<usize> = (0..table.len()).collect();
            order.sort_by(|&a, &b| pref(b).total_cmp(&pref(a)).then(a.cmp(&b)));
            let mut ends = Vec::new();
            for i in 1..=order.len() {
                if i == order.len() || pref(order[i]) != pref(order[i - 1]) {
                    ends.push(i);
                }
            }
            (order, ends)
        });
        Evaluator {
            table,
            preds,
            lambdas,
            cost_scale,
            seg_start,
            segs,
            oracle,
            ranking,
        }
    }

    /// The metrics with per-prompt weights (`None`: every prompt once). Weights must not all be 0.
    pub fn sample(&self, weights: Option<&[u32]>) -> Sample {
        let (t, nt, n) = (self.table, self.table.n_tiers(), self.table.len());
        let w = |p: usize| weights.map_or(1.0, |w| w[p] as f64);
        let total: f64 = (0..n).map(w).sum();
        let (mut sq, mut sc) = (vec![0.0; nt], vec![0.0; nt]);
        let (mut oq, mut oc, mut opq, mut opc) = (0.0, 0.0, 0.0, 0.0);
        let nl = self.lambdas.len();
        let (mut dq, mut dc) = (vec![0.0; nl + 1], vec![0.0; nl + 1]);
        for p in 0..n {
            let wp = w(p);
            if wp == 0.0 {
                continue;
            }
            let (qr, cr) = (&t.q[p * nt..(p + 1) * nt], &t.c[p * nt..(p + 1) * nt]);
            for k in 0..nt {
                sq[k] += wp * qr[k];
                sc[k] += wp * cr[k];
            }
            let o = self.oracle[p];
            oq += wp * t.q(p, o);
            oc += wp * t.c(p, o);
            let ch = self.preds.chosen[p];
            opq += wp * t.q(p, ch);
            opc += wp * t.c(p, ch);
            let segs = &self.segs[self.seg_start[p]..self.seg_start[p + 1]];
            for (i, &(start, tier)) in segs.iter().enumerate() {
                let end = segs.get(i + 1).map_or(nl, |s| s.0 as usize);
                let (q, c) = (wp * t.q(p, tier as usize), wp * t.c(p, tier as usize));
                dq[start as usize] += q;
                dq[end] -= q;
                dc[start as usize] += c;
                dc[end] -= c;
            }
        }
        let (mut aq, mut ac) = (0.0, 0.0);
        let router_points: Vec<Point> = (0..nl)
            .map(|i| {
                aq += dq[i];
                ac += dc[i];
                (ac / total, aq / total)
            })
            .collect();
        let tier_quality: Vec<f64> = sq.iter().map(|s| s / total).collect();
        let tier_cost: Vec<f64> = sc.iter().map(|s| s / total).collect();
        let best_tier = (0..nt).fold(0, |b, k| {
            let better = tier_quality[k] > tier_quality[b]
                || (tier_quality[k] == tier_quality[b] && tier_cost[k] < tier_cost[b]);
            if better {
                k
            } else {
                b
            }
        });
        let (q_star, c_star) = (tier_quality[best_tier], tier_cost[best_tier]);
        let lo = tier_cost.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = tier_cost.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let tier_points: Vec<Point> = tier_cost
            .iter()
            .copied()
            .zip(tier_quality.clone())
            .collect();
        let cost_at_best = router_points
            .iter()
            .filter(|p| p.1 >= q_star - EPS)
            .map(|p| p.0)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
            .and_then(|x| (c_star > 0.0).then(|| x / c_star));
        let quality_at = |frac: f64| {
            router_points
                .iter()
                .filter(|p| p.0 <= frac * c_star * (1.0 + 1e-9))
                .map(|p| p.1)
                .fold(None, |m: Option<f64>, y| Some(m.map_or(y, |m| m.max(y))))
        };
        let (apgr, cpt50, cpt80) = match &self.ranking {
            Some(r) => self.two_tier(r, &w, total, &tier_quality),
            None => (None, None, None),
        };
        Sample {
            aiq: curve::aiq(&router_points, lo, hi),
            zero_router_aiq: curve::aiq(&tier_points, lo, hi),
            oracle: (oc / total, oq / total),
            operating: (opc / total, opq / total),
            cost_at_best,
            quality_at_50pct_cost: quality_at(0.5),
            quality_at_20pct_cost: quality_at(0.2),
            apgr,
            cpt50,
            cpt80,
            router_points,
            tier_quality,
            tier_cost,
            best_tier,
        }
    }

    /// APGR and CPT(50/80%) for two tiers (weak = 0, strong = 1). Prompts the router ranks
    /// equally form a tie group; inside a group the PGR curve is the straight line between the
    /// group's ends, which is the expected PGR over every order of the tied prompts (so the
    /// result does not depend on input order). A bootstrap weight of w counts a prompt w times.
    fn two_tier(
        &self,
        (order, ends): &(Vec<usize>, Vec<usize>),
        w: &dyn Fn(usize) -> f64,
        total: f64,
        tq: &[f64],
    ) -> (Option<f64>, Option<f64>, Option<f64>) {
        let denom = tq[1] - tq[0];
        if denom.abs() < EPS {
            return (None, None, None);
        }
        let t = self.table;
        let (mut area, mut gain, mut k) = (0.0, 0.0, 0.0);
        let mut cpt = [None, None];
        let mut begin = 0;
        for &end in ends {
            let (mut wg, mut gg) = (0.0, 0.0);
            for &p in &order[begin..end] {
                wg += w(p);
                gg += w(p) * (t.q(p, 1) - t.q(p, 0));
            }
            begin = end;
            if wg == 0.0 {
                continue;
            }
            let start = gain / (total * denom);
            let stop = (gain + gg) / (total * denom);
            area += wg / total * 0.5 * (start + stop);
            for (slot, x) in cpt.iter_mut().zip([0.5, 0.8]) {
                if slot.is_some() {
                    continue;
                }
                if start >= x - EPS {
                    *slot = Some(k / total);
                } else if stop >= x - EPS {
                    let j = ((x - start) / (stop - start) * wg - 1e-9)
                        .ceil()
                        .clamp(1.0, wg);
                    *slot = Some((k + j) / total);
                }
            }
            gain += gg;
            k += wg;
        }
        (Some(area), cpt[0], cpt[1])
    }
}

/// Where one prompt's choice changes along the λ grid: (first λ index, tier) pairs. As λ grows
/// the choice can only move to a tier of lower expected cost, at the λ where that tier's line
/// p_s − λ·ĉ_s/ĉ_max crosses the chosen one's; so instead of evaluating every λ, jump to the
/// first grid λ at (or just before, against rounding) the nearest crossing and evaluate the
/// policy there with [`curve::choose_among`] itself, which keeps its tie rule exact. Only the
/// tiers in `choosable` are chosen (empty: every tier).
pub fn segments(
    p: &[f32],
    cost: &[f64],
    choosable: &[bool],
    lambdas: &[f64],
    cost_scale: f64,
) -> Vec<(u16, u16)> {
    let all = !choosable.contains(&true);
    let ok = |s: usize| all || choosable[s];
    let mut t = curve::choose_among(p, cost, choosable, lambdas[0], cost_scale);
    let mut out = vec![(0u16, t as u16)];
    let mut i = 0;
    loop {
        let next = (0..p.len())
            .filter(|&s| cost[s] < cost[t] && ok(s))
            .map(|s| (p[t] as f64 - p[s] as f64) * cost_scale / (cost[t] - cost[s]))
            .fold(f64::INFINITY, f64::min);
        if !next.is_finite() {
            return out;
        }
        let from = next - next.abs() * 1e-9 - 1e-300;
        let j = i + 1 + lambdas[i + 1..].partition_point(|&l| l < from);
        if j >= lambdas.len() {
            return out;
        }
        let u = curve::choose_among(p, cost, choosable, lambdas[j], cost_scale);
        if u != t {
            out.push((j as u16, u as u16));
            t = u;
        }
        i = j;
    }
}
