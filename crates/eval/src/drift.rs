//! Whether the router does worse on the eval prompts than its validation promised: the artifact
//! predicts its quality and cost at the chosen λ on the prompts it held out, and the eval
//! realises them on new prompts. A gap beyond the sampling noise of both figures means the new
//! prompts are not like the training ones (another task, another traffic mix), and the target
//! the λ was chosen for no longer holds.

use crate::bootstrap::Estimate;
use crate::markdown::num;

/// How a drift warning starts (gate files name it `drift`).
pub const PREFIX: &str = "DRIFT";

/// The normal quantile of a two-sided 95% interval: how far (in standard errors of the
/// difference) a figure may fall short before it is flagged, and the margin `± Z·se` reports
/// print beside a prediction.
pub const Z: f64 = 1.96;

/// The realised figure of a metric against the prediction, on `n_eval` prompts against `n_val`.
pub struct Check<'a> {
    /// What it is, for the message (`quality`, `mean cost`).
    pub what: &'a str,
    /// The eval's estimate, with its 95% interval.
    pub realised: Option<&'a Estimate>,
    /// The artifact's prediction.
    pub predicted: Option<f64>,
    /// The prediction's standard error, when the artifact holds it.
    pub predicted_se: Option<f64>,
    /// Whether a larger value is better (quality) or worse (cost).
    pub higher_is_better: bool,
}

/// A warning (starting with [`PREFIX`]) for each check whose realised value is worse than
/// predicted by more than 1.96 standard errors of the difference. The eval's standard error is
/// its 95% interval's width / 3.92. The prediction's is the artifact's own (the spread of its
/// validation prompts); an artifact without one gets the eval's, scaled by √(n_eval / n_val)
/// for its own prompt count (as if the spread per prompt were the same). Better than predicted
/// is not flagged.
pub fn warnings(checks: &[Check], n_eval: usize, n_val: Option<usize>, lambda: f64) -> Vec<String> {
    let n_val = n_val.filter(|&n| n > 0).unwrap_or(n_eval).max(1);
    checks
        .iter()
        .filter_map(|c| {
            let e = c.realised?;
            let (value, lo, hi, predicted) = (e.value?, e.lo?, e.hi?, c.predicted?);
            let se_eval = (hi - lo) / 3.92;
            let se_val = c
                .predicted_se
                .unwrap_or_else(|| se_eval * (n_eval as f64 / n_val as f64).sqrt());
            let margin = Z * (se_eval * se_eval + se_val * se_val).sqrt();
            let short = match c.higher_is_better {
                true => predicted - value,
                false => value - predicted,
            };
            (short > margin).then(|| {
                format!(
                    "{PREFIX}: at λ = {} the router's {} here is {} (95% interval [{}, {}]), {} the \
                     {} its validation predicted, beyond sampling noise: these prompts are not \
                     like the ones it was trained on, and its target no longer holds. Retrain on \
                     logs like these, or re-choose the target on them",
                    num(lambda),
                    c.what,
                    num(value),
                    num(lo),
                    num(hi),
                    if c.higher_is_better { "below" } else { "above" },
                    num(predicted),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(value: f64, lo: f64, hi: f64, higher_is_better: bool) -> Estimate {
        Estimate {
            value: Some(value),
            lo: Some(lo),
            hi: Some(hi),
            higher_is_better,
        }
    }

    #[test]
    fn only_a_shortfall_beyond_the_noise_of_both_figures_is_flagged() {
        // RouterBench: trained on MBPP + Winogrande, evaluated on ARC. Quality came out higher
        // than predicted (not flagged), cost far higher (flagged).
        let q = est(0.953, 0.941, 0.966, true);
        let c = est(0.00504, 0.00503, 0.00505, false);
        let checks_se = |pq, pc, se| {
            [
                Check {
                    what: "quality",
                    realised: Some(&q),
                    predicted: Some(pq),
                    predicted_se: se,
                    higher_is_better: true,
                },
                Check {
                    what: "mean cost",
                    realised: Some(&c),
                    predicted: Some(pc),
                    predicted_se: None,
                    higher_is_better: false,
                },
            ]
        };
        let checks = |pq, pc| checks_se(pq, pc, None);
        let w = warnings(&checks(0.802, 0.00338), 1019, Some(1511), 0.0871);
        assert_eq!(w.len(), 1, "{w:?}");
        let want = "DRIFT: at λ = 0.0871 the router's mean cost here is 0.00504 \
                    (95% interval [0.00503, 0.00505]), above the 0.00338";
        assert!(w[0].starts_with(want), "{}", w[0]);
        // Quality well below the prediction is flagged too.
        let w = warnings(&checks(0.99, 0.00504), 1019, Some(1511), 0.0871);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("quality here is 0.953") && w[0].contains("below the 0.990"),
            "{}",
            w[0]
        );
        // Within noise: the se of the difference is ~0.0083, so 0.015 below is not flagged,
        // and with few validation prompts a larger gap is noise too.
        assert!(warnings(&checks(0.968, 0.00504), 1019, Some(1511), 0.1).is_empty());
        assert!(!warnings(&checks(0.975, 0.00504), 1019, Some(1511), 0.1).is_empty());
        assert!(warnings(&checks(0.975, 0.00504), 1019, Some(40), 0.1).is_empty());
        // The artifact's own standard error replaces the scaled one, whatever the prompt
        // count: a small one (0.005) flags that gap on 40 prompts; a large one (0.02: a
        // validation set spread more widely) does not flag even 0.037 below, which the scaled
        // estimate over 1,511 prompts does.
        assert_eq!(
            warnings(&checks_se(0.975, 0.00504, Some(0.005)), 1019, Some(40), 0.1).len(),
            1
        );
        assert!(!warnings(&checks(0.99, 0.00504), 1019, Some(1511), 0.1).is_empty());
        assert!(warnings(&checks_se(0.99, 0.00504, Some(0.02)), 1019, Some(1511), 0.1).is_empty());
        // Nothing to compare: no warning.
        let none = [Check {
            what: "quality",
            realised: Some(&q),
            predicted: None,
            predicted_se: Some(0.001),
            higher_is_better: true,
        }];
        assert!(warnings(&none, 1019, None, 0.1).is_empty());
    }
}
