//! Which tiers the router may choose, per feature tag: for each tag of the training log with at
//! least [`MIN_KNOWN`] known outcomes on every tier, the tiers the no-features prior chooses
//! somewhere on the λ sweep (pass rates and mean expected costs over the tag's prompts,
//! [`policy::prior_choices`]). See [`tierwise_router::artifact::Choosable`] for why.
//!
//! Measured on the public data (`TW_DUMP` of `examples/cv.rs`, fold seeds 101 on, the prior's
//! hull taken per task): router − prior AIQ moved on RouterBench MBPP by +0.0027 (60 draws,
//! standard error 0.0006, better on 42, worse on 18) and on the three-task mix by +0.0014 (5 of
//! 5 draws); ARC and Winogrande moved by under 0.0001. Taken over the whole mix instead of per
//! task, the same rule lost 0.0063: a tier off the mix's hull (code-llama) is on MBPP's.
use std::collections::BTreeMap;

use tierwise_core::text::estimate_tokens;
use tierwise_core::OutcomeTable;
use tierwise_router::artifact::Choosable;
use tierwise_router::policy::{self, TierCost};

use crate::baselines::pass_counts;

/// Known outcomes every tier needs within a tag before its tiers are narrowed.
pub const MIN_KNOWN: usize = 20;

/// The [`Choosable`] entries of `table`'s prompts `idx` (tags where the prior leaves some tier
/// out; `None` stands for the prompts without a tag), by tag.
pub fn fit(table: &OutcomeTable, idx: &[usize], cost_model: &[TierCost]) -> Vec<Choosable> {
    let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for &p in idx {
        groups
            .entry(table.prompts[p].feature.as_deref())
            .or_default()
            .push(p);
    }
    let mut out = Vec::new();
    for (feature, prompts) in groups {
        let counts = pass_counts(&table.subset(&prompts));
        if counts.iter().any(|&(_, n)| n < MIN_KNOWN) {
            continue;
        }
        let rates: Vec<f64> = counts
            .iter()
            .map(|&(pos, n)| (pos as f64 + 0.5) / (n as f64 + 1.0))
            .collect();
        let mut costs = vec![0.0; cost_model.len()];
        for &p in &prompts {
            let tokens = estimate_tokens(&table.prompts[p].text) as f64;
            for (s, c) in costs.iter_mut().zip(cost_model) {
                *s += c.cost(tokens) / prompts.len() as f64;
            }
        }
        let keep = policy::prior_choices(&rates, &costs);
        if keep.iter().all(|&k| k) {
            continue;
        }
        out.push(Choosable {
            feature: feature.map(String::from),
            tiers: (0..keep.len())
                .filter(|&t| keep[t])
                .map(|t| table.tiers[t].clone())
                .collect(),
        });
    }
    out
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
        // Without tags the prompts form one group: the whole log's prior.
        for r in log.iter_mut() {
            r.feature = None;
        }
        let table = OutcomeTable::build(&log, &config);
        assert!(fit(&table, &idx, &costs).is_empty());
    }
}
