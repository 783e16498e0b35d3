//! Which tiers the router may choose, per feature tag: for each tag of the training log with at
//! least [`MIN_KNOWN`] prompts that every tier answered, the tiers the no-features prior chooses
//! somewhere on the λ sweep (pass rates and mean expected costs over those prompts,
//! [`policy::prior_choices`]). See [`tierwise_router::artifact::Choosable`] for why. Only such
//! prompts count: in production logs each prompt went to the tier an earlier router chose, so
//! the dear tier's pass rate is measured on the hard prompts and would put it under the hull;
//! with no fully answered prompts every tier stays choosable.
//!
//! Measured on the public data (`examples/cv.rs`, fresh fold seeds 101 on, paired per draw
//! against the code before it, which `--all-tiers` still trains): router − prior AIQ on
//! RouterBench MBPP went from +0.0023 to +0.0046 (60 draws; paired +0.0023, standard error
//! 0.0007, better on 44), on the three-task mix from +0.0256 to +0.0268 (5 of 5 draws better);
//! ARC, Winogrande and GSM8K moved by at most 0.0001.
use std::collections::BTreeMap;

use tierwise_core::text::estimate_tokens;
use tierwise_core::OutcomeTable;
use tierwise_router::artifact::Choosable;
use tierwise_router::policy::{self, TierCost};

use crate::baselines::smoothed_rates;

/// Prompts of a tag that every tier answered before its tiers are narrowed.
pub const MIN_KNOWN: usize = 20;

/// The [`Choosable`] entries of `table`'s prompts `idx`, by tag (tags where the prior leaves
/// some tier out). Two tiers are never left out:
/// - the best tier of the whole log (highest pass rate, ties to the cheaper), so a tag whose
///   few prompts put it level with a cheaper tier keeps its way up (RouteLLM MMLU drawn by prompt:
///   gpt-4 dropped on college chemistry, 0.48 against Mixtral's 0.49, cost router − prior 0.0005
///   and 0.0008 on two fold draws);
/// - nor, trivially, the cheapest (the prior takes it at the largest λ).
///
/// Prompts without a tag are left free: a log may mix tasks without saying so, and the hull of a
/// mix hides tiers that are on one task's hull (the RouterBench mix with its tags removed,
/// narrowed as one group: router − prior 0.0066 lower, 5 of 5 fold draws).
pub fn fit(table: &OutcomeTable, idx: &[usize], cost_model: &[TierCost]) -> Vec<Choosable> {
    let nt = table.n_tiers();
    let full: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&p| (0..nt).all(|t| table.passed(p, t).is_some()))
        .collect();
    if full.is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &p in &full {
        if let Some(tag) = table.prompts[p].feature.as_deref() {
            groups.entry(tag).or_default().push(p);
        }
    }
    let (rates, costs) = prior_point(table, &full, cost_model);
    let scale = costs.iter().copied().fold(0.0, f64::max);
    let p: Vec<f32> = rates.iter().map(|&r| r as f32).collect();
    let best = policy::choose(&p, &costs, 0.0, scale);
    let mut out = Vec::new();
    for (feature, prompts) in groups {
        if prompts.len() < MIN_KNOWN {
            continue;
        }
        let (rates, costs) = prior_point(table, &prompts, cost_model);
        let mut keep = policy::prior_choices(&rates, &costs);
        keep[best] = true;
        if keep.iter().all(|&k| k) {
            continue;
        }
        out.push(Choosable {
            feature: Some(feature.to_string()),
            tiers: (0..keep.len())
                .filter(|&t| keep[t])
                .map(|t| table.tiers[t].clone())
                .collect(),
        });
    }
    out
}

/// Per tier, the smoothed pass rate ([`smoothed_rates`]) and the mean expected cost over
/// `prompts` (each answered by every tier).
fn prior_point(
    table: &OutcomeTable,
    prompts: &[usize],
    cost_model: &[TierCost],
) -> (Vec<f64>, Vec<f64>) {
    let rates = smoothed_rates(&table.subset(prompts));
    let mut costs = vec![0.0; cost_model.len()];
    for &p in prompts {
        let tokens = estimate_tokens(&table.prompts[p].text) as f64;
        for (s, c) in costs.iter_mut().zip(cost_model) {
            *s += c.cost(tokens) / prompts.len() as f64;
        }
    }
    (rates, costs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tierwise_core::{LogRow, Tier, TierConfig};

    /// Prompts of `tag` where the three tiers pass at the given rates (of 40), costing 1, 2, 4.
    fn rows(tag: &str, n: usize, pass: [usize; 3]) -> Vec<LogRow> {
        let mut out = Vec::new();
        for i in 0..n {
            for (t, model) in ["ma", "mb", "mc"].iter().enumerate() {
                out.push(LogRow {
                    score: Some((i * 40 / n < pass[t]) as u8 as f64),
                    cost_usd: Some([1.0, 2.0, 4.0][t]),
                    feature: Some(tag.to_string()),
                    ..LogRow::new(format!("{tag} prompt {i}"), *model)
                });
            }
        }
        out
    }

    #[test]
    fn per_tag_the_tiers_the_prior_would_choose() {
        let config = TierConfig::new(vec![
            Tier::new("a", "ma"),
            Tier::new("b", "mb"),
            Tier::new("c", "mc"),
        ])
        .unwrap();
        let mut log = rows("x", 40, [20, 21, 36]); // b under the line from a to c
        log.extend(rows("y", 40, [20, 34, 36])); // b above it: every tier
        log.extend(rows("z", 10, [2, 3, 9])); // 10 prompts: too few to judge
                                              // c, the best tier of the log, a little below b here: kept all the same.
        log.extend(rows("v", 40, [10, 30, 29]));
        // A production-like tag: each prompt answered by one tier (the dear one got the hard
        // prompts, so it passes least); no prompt every tier answered, so no narrowing.
        let partial = rows("w", 60, [36, 36, 20]);
        log.extend(
            partial
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % 3 == (i / 3) % 3)
                .map(|(_, r)| r),
        );
        let table = OutcomeTable::build(&log, &config);
        let idx: Vec<usize> = (0..table.len()).collect();
        let costs = crate::cost::fit(&table, &config).unwrap();
        let got = fit(&table, &idx, &costs);
        assert_eq!(
            got,
            [Choosable {
                feature: Some("x".into()),
                tiers: vec!["a".into(), "c".into()],
            }]
        );
        // Without tags nothing is narrowed, not even on x's prompts alone.
        for r in log.iter_mut().filter(|r| r.feature.as_deref() == Some("x")) {
            r.feature = None;
        }
        let table = OutcomeTable::build(&log, &config);
        let idx: Vec<usize> = (0..table.len()).collect();
        assert!(fit(&table, &idx, &costs).is_empty());
    }
}
