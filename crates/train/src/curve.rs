//! The validation curve: the policy swept over λ on held-out prompts, scored with the logged
//! quality and cost of the chosen tiers (metrics.md), and each single tier on the same prompts.
use tierwise_core::OutcomeTable;
use tierwise_router::artifact::{CurvePoint, SingleTier};
use tierwise_router::policy::{choose, lambda_grid};

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

/// Points (λ, mean q, mean c) of the policy for every λ of the grid; `q`/`c` are the values
/// credited for each prompt and tier, `p`/`e` the predictions that drive the choice.
pub fn sweep(
    q: &[Vec<f64>],
    c: &[Vec<f64>],
    p: &[&[f32]],
    e: &[&[f64]],
    scale: f64,
) -> Vec<CurvePoint> {
    let n = q.len().max(1) as f64;
    lambda_grid()
        .into_iter()
        .map(|lambda| {
            let (mut sq, mut sc) = (0.0, 0.0);
            for i in 0..q.len() {
                let t = choose(p[i], e[i], lambda, scale);
                sq += q[i][t];
                sc += c[i][t];
            }
            CurvePoint {
                lambda,
                quality: sq / n,
                cost_usd: sc / n,
            }
        })
        .collect()
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
