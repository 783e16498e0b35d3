//! The validation curve: the policy swept over λ on held-out prompts, scored with the logged
//! quality and cost of the chosen tiers (metrics.md), and each single tier on the same prompts.
use tierwise_core::OutcomeTable;
use tierwise_router::artifact::{CurvePoint, SingleTier};
use tierwise_router::policy::{choose_among, lambda_grid};

/// Fewer fully observed validation prompts than this: the curve uses predictions instead.
pub const MIN_LOGGED: usize = 20;

/// Logged quality and cost of the prompts where every tier is observed.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// Row index into the table / predictions.
    pub rows: Vec<usize>,
    /// `[rows][tiers]` score.
    pub q: Vec<Vec<f64>>,
    /// `[rows][tiers]` cost (logged, else expected).
    pub c: Vec<Vec<f64>>,
}

/// The fully observed prompts of `table`; missing logged costs fall back to `expected`.
pub fn outcomes(table: &OutcomeTable, expected: &[Vec<f64>]) -> Outcomes {
    let nt = table.n_tiers();
    let mut o = Outcomes::default();
    for (p, exp) in expected.iter().enumerate().take(table.len()) {
        if (0..nt).all(|t| table.cell(p, t).score.is_some()) {
            o.rows.push(p);
            o.q.push(
                (0..nt)
                    .map(|t| table.cell(p, t).score.unwrap_or(0.0))
                    .collect(),
            );
            o.c.push(
                (0..nt)
                    .map(|t| table.cell(p, t).cost.unwrap_or(exp[t]))
                    .collect(),
            );
        }
    }
    o
}

/// Points (λ, mean q, mean c, and their standard errors) of the policy for every λ of the grid;
/// `q`/`c` are the values credited for each prompt and tier, `p`/`e` the predictions that drive
/// the choice, `choosable` the tiers each prompt may go to (empty, or an empty row: every tier).
pub fn sweep(
    q: &[Vec<f64>],
    c: &[Vec<f64>],
    p: &[&[f32]],
    e: &[&[f64]],
    choosable: &[&[bool]],
    scale: f64,
) -> Vec<CurvePoint> {
    lambda_grid()
        .into_iter()
        .map(|lambda| {
            let (mut mq, mut mc) = (Moments::default(), Moments::default());
            for i in 0..q.len() {
                let allowed = choosable.get(i).copied().unwrap_or_default();
                let t = choose_among(p[i], e[i], allowed, lambda, scale);
                mq.add(q[i][t]);
                mc.add(c[i][t]);
            }
            CurvePoint {
                lambda,
                quality: mq.mean(),
                cost_usd: mc.mean(),
                quality_se: mq.se(),
                cost_usd_se: mc.se(),
            }
        })
        .collect()
}

/// Running sum and variance (Welford's update for the variance: no cancellation on costs of
/// 1e-4 and less).
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: f64,
    sum: f64,
    /// Welford's running mean, and sum of squared deviations from it.
    running: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.n += 1.0;
        self.sum += x;
        let d = x - self.running;
        self.running += d / self.n;
        self.m2 += d * (x - self.running);
    }

    /// The mean as sum / n (0 of nothing), the same bits as [`singles`]' means.
    fn mean(&self) -> f64 {
        self.sum / self.n.max(1.0)
    }

    /// The standard error of the mean: sample standard deviation / √n (`None` below 2 values).
    fn se(&self) -> Option<f64> {
        (self.n >= 2.0).then(|| (self.m2 / (self.n - 1.0) / self.n).sqrt())
    }
}

/// Single-tier means over the same prompts.
pub fn singles(names: &[String], q: &[Vec<f64>], c: &[Vec<f64>]) -> Vec<SingleTier> {
    let n = q.len().max(1) as f64;
    names
        .iter()
        .enumerate()
        .map(|(t, name)| SingleTier {
            tier: name.clone(),
            quality: q.iter().map(|r| r[t]).sum::<f64>() / n,
            cost_usd: c.iter().map(|r| r[t]).sum::<f64>() / n,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_carry_the_standard_error_of_their_means() {
        // Two tiers; the policy sends prompts 0 and 1 to the cheap tier at every λ > 0 (it is
        // sure they pass) and the others to the dear one until λ makes cost dominate.
        let q = vec![
            vec![1.0, 1.0],
            vec![1.0, 1.0],
            vec![0.0, 1.0],
            vec![0.0, 0.0],
        ];
        let c = vec![vec![1e-4, 3e-3]; 4];
        let p: Vec<[f32; 2]> = vec![[1.0, 1.0], [1.0, 1.0], [0.1, 0.9], [0.1, 0.2]];
        let p: Vec<&[f32]> = p.iter().map(|r| &r[..]).collect();
        let e: Vec<&[f64]> = c.iter().map(|r| &r[..]).collect();
        let points = sweep(&q, &c, &p, &e, &[], 3e-3);
        let at = |l: f64| points.iter().find(|pt| pt.lambda >= l).unwrap();
        // λ = 0.1: prompts 2 and 3 go to the dear tier: q = 1, 1, 1, 0 and c = 1e-4, 1e-4,
        // 3e-3, 3e-3.
        let pt = at(0.1);
        assert_eq!(pt.quality, 0.75);
        assert!((pt.cost_usd - 1.55e-3).abs() < 1e-15);
        // Sample variance of (1, 1, 1, 0): 0.25; se = √(0.25 / 4) = 0.25.
        assert!((pt.quality_se.unwrap() - 0.25).abs() < 1e-12);
        // Costs: deviations ±1.45e-3, sample variance 4 · 1.45e-3² / 3; se = that / 4, √.
        let want = (4.0 * 1.45e-3f64.powi(2) / 3.0 / 4.0).sqrt();
        assert!((pt.cost_usd_se.unwrap() - want).abs() < 1e-15);
        // λ = 100: all on the cheap tier; every cost equal, so its standard error is 0.
        let pt = at(100.0);
        assert_eq!((pt.quality, pt.cost_usd_se), (0.5, Some(0.0)));
        // One prompt: no spread to estimate.
        let one = sweep(&q[..1], &c[..1], &p[..1], &e[..1], &[], 3e-3);
        assert_eq!((one[0].quality_se, one[0].cost_usd_se), (None, None));
    }
}
