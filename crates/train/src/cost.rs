//! The expected-cost model per tier. Where the logs carry costs for a tier (≥ 5 cells), a least-
//! squares line of logged cost on estimated prompt tokens: it is what was actually billed,
//! including real output lengths and cache discounts. Otherwise config prices × (prompt tokens +
//! the tier's mean logged output tokens). A tier with neither is an error.
use tierwise_core::text::estimate_tokens;
use tierwise_core::{OutcomeTable, TierConfig};
use tierwise_router::policy::TierCost;

use crate::error::{Error, Result};

/// Fit the cost model of every tier from the cells of `table` (training prompts).
pub fn fit(table: &OutcomeTable, config: &TierConfig) -> Result<Vec<TierCost>> {
    let tokens: Vec<f64> = table
        .prompts
        .iter()
        .map(|p| estimate_tokens(&p.text) as f64)
        .collect();
    (0..table.n_tiers())
        .map(|t| {
            let (mut xs, mut ys, mut outs) = (Vec::new(), Vec::new(), Vec::new());
            for (p, &x) in tokens.iter().enumerate() {
                let c = table.cell(p, t);
                if let Some(cost) = c.cost.filter(|c| c.is_finite() && *c >= 0.0) {
                    xs.push(x);
                    ys.push(cost);
                }
                if let Some(o) = c.output_tokens {
                    outs.push(o);
                }
            }
            let tier = &config.tiers[t];
            if xs.len() >= 5 {
                let n = xs.len() as f64;
                let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
                let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
                let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
                let slope = if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 };
                let min = ys.iter().copied().fold(f64::INFINITY, f64::min);
                Ok(TierCost {
                    basis: "logged_fit".into(),
                    intercept: my - slope * mx,
                    per_input_token: slope,
                    floor: min.max(0.0),
                })
            } else if !tier.price.is_zero() {
                let out = if outs.is_empty() {
                    tier.max_tokens.map(|m| m as f64 / 4.0).unwrap_or(0.0)
                } else {
                    outs.iter().sum::<f64>() / outs.len() as f64
                };
                Ok(TierCost {
                    basis: "prices".into(),
                    intercept: tier.price.output * out / 1e6,
                    per_input_token: tier.price.input / 1e6,
                    floor: 0.0,
                })
            } else {
                Err(Error::Data(format!(
                    "tier `{}`: no prices in the tier config and fewer than 5 logged costs; \
                     add `price = {{ input = …, output = … }}` to the tier or log cost_usd",
                    tier.name
                )))
            }
        })
        .collect()
}
