//! The no-signal null of a router: its own predictions dealt to the wrong prompts.
//!
//! AIQ integrates the upper hull of a router's points. A router whose probabilities scatter
//! prompts across the tiers at random still has some points above the segments between single
//! tiers, by chance, and the hull keeps them; so on a set where the text says nothing about
//! which tier passes, a noisy router beats the no-features prior and the zero router by a
//! little (RouterBench Winogrande: the prior's logits plus noise of standard deviation 0.1 beat
//! it by 0.0025 AIQ, in 59 of 60 draws). Permuting the router's prediction rows across
//! prompts keeps that scatter and the costs but breaks the link to the outcomes: how far the
//! router is ahead of its permuted self is what it learned from the prompts.
//!
//! [`test`] is the permutation test of that lead; a report carries it, and warns (prefix
//! [`PREFIX`], which a gate can fail on) when the router is not clear of chance.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::metrics::Evaluator;
use crate::table::{EvalTable, Predictions};

/// The start of the warning a report carries when the router is not clear of chance.
pub const PREFIX: &str = "CHANCE";

/// Permutations a report's test draws: with 99, the smallest p-value is 0.01.
pub const PERMUTATIONS: usize = 99;

/// The p-value at or above which a report warns.
pub const ALPHA: f64 = 0.05;

/// The permutation test of a router's AIQ against its own predictions dealt to the wrong
/// prompts ([`permuted`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermutationTest {
    /// Permutations drawn.
    pub permutations: usize,
    /// Seed of the first; permutation k is seeded with `seed + k`.
    pub seed: u64,
    /// The router's AIQ.
    pub aiq: f64,
    /// The mean AIQ of the permuted routers.
    pub null_aiq: f64,
    /// `aiq − null_aiq`: what the router learned from the prompts, on this set.
    pub aiq_vs_permuted: f64,
    /// `(1 + permutations with AIQ ≥ the router's) / (1 + permutations)`.
    pub p_value: f64,
}

impl PermutationTest {
    /// Whether the router is within chance: `p_value` ≥ [`ALPHA`].
    pub fn within_chance(&self) -> bool {
        self.p_value >= ALPHA
    }

    /// The report warning when the router is [within chance](Self::within_chance).
    pub fn warning(&self) -> Option<String> {
        self.within_chance().then(|| {
            format!(
                "{PREFIX}: the router's AIQ ({:.4}) is within chance of its own predictions dealt \
                 to random prompts (mean {:.4} over {} permutations, p = {:.2}): on these prompts \
                 it has learned little that a random scatter across the tiers would not score",
                self.aiq, self.null_aiq, self.permutations, self.p_value
            )
        })
    }
}

/// Run the permutation test of `preds` on `table` with `permutations` draws seeded from `seed`.
pub fn test(
    table: &EvalTable,
    preds: &Predictions,
    permutations: usize,
    seed: u64,
) -> PermutationTest {
    let nt = table.n_tiers();
    let aiq = Evaluator::new(table, preds).sample(None).aiq;
    let groups = groups(preds, nt);
    // One scratch copy per worker: each permutation overwrites its rows.
    let null: Vec<f64> = (0..permutations)
        .into_par_iter()
        .map_init(
            || preds.clone(),
            |scratch, k| {
                deal(preds, nt, &groups, seed.wrapping_add(k as u64), scratch);
                Evaluator::new(table, scratch).sample(None).aiq
            },
        )
        .collect();
    let null_aiq = null.iter().sum::<f64>() / permutations.max(1) as f64;
    let above = null.iter().filter(|&&a| a >= aiq).count();
    PermutationTest {
        permutations,
        seed,
        aiq,
        null_aiq,
        aiq_vs_permuted: aiq - null_aiq,
        p_value: (1 + above) as f64 / (1 + permutations) as f64,
    }
}

/// `preds` (N × `nt`) with its probability rows and chosen tiers permuted among the prompts
/// that share a choosable row (the router's choice per feature tag stays with the tag), by a
/// permutation seeded with `seed`. Expected costs and choosable rows stay with their prompts.
pub fn permuted(preds: &Predictions, nt: usize, seed: u64) -> Predictions {
    let mut out = preds.clone();
    deal(preds, nt, &groups(preds, nt), seed, &mut out);
    out
}

/// The prompts of each distinct choosable row, in order of their first prompt.
fn groups(preds: &Predictions, nt: usize) -> Vec<Vec<usize>> {
    let mut by_row: HashMap<&[bool], Vec<usize>> = HashMap::new();
    for i in 0..preds.chosen.len() {
        by_row
            .entry(preds.choosable_row(i, nt))
            .or_default()
            .push(i);
    }
    // Deal the groups in prompt order, so the permutation depends on the seed alone.
    let mut groups: Vec<Vec<usize>> = by_row.into_values().collect();
    groups.sort_unstable_by_key(|g| g[0]);
    groups
}

/// Write into `out` (a copy of `preds`) the rows of `preds` dealt within each group.
fn deal(preds: &Predictions, nt: usize, groups: &[Vec<usize>], seed: u64, out: &mut Predictions) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut from = Vec::new();
    for to in groups {
        from.clone_from(to);
        from.shuffle(&mut rng);
        for (&i, &j) in to.iter().zip(&from) {
            out.p[i * nt..(i + 1) * nt].copy_from_slice(&preds.p[j * nt..(j + 1) * nt]);
            out.chosen[i] = preds.chosen[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EvalTable, Evaluator};

    /// 200 prompts × 2 tiers: tier 0 (cost 1) passes the even prompts, tier 1 (cost 4) all.
    fn table() -> EvalTable {
        let (mut q, mut c) = (Vec::new(), Vec::new());
        for i in 0..200 {
            q.extend([(i % 2 == 0) as u8 as f64, 1.0]);
            c.extend([1.0, 4.0]);
        }
        EvalTable::from_parts(&["a", "b"], q, c).unwrap()
    }

    fn oracle(choosable: Vec<bool>) -> Predictions {
        Predictions {
            p: (0..200)
                .flat_map(|i| [if i % 2 == 0 { 0.9 } else { 0.1 }, 0.95])
                .collect(),
            cost: [1.0, 4.0].repeat(200),
            chosen: (0..200).map(|i| i % 2).collect(),
            choosable,
        }
    }

    #[test]
    fn the_permuted_oracle_loses_what_it_knew() {
        let (t, preds) = (table(), oracle(Vec::new()));
        let aiq = |p: &Predictions| Evaluator::new(&t, p).sample(None).aiq;
        let null = permuted(&preds, 2, 7);
        assert_eq!(null.cost, preds.cost);
        let mut rows: Vec<[u32; 2]> = (0..200)
            .map(|i| [null.p[2 * i].to_bits(), null.p[2 * i + 1].to_bits()])
            .collect();
        let mut orig: Vec<[u32; 2]> = (0..200)
            .map(|i| [preds.p[2 * i].to_bits(), preds.p[2 * i + 1].to_bits()])
            .collect();
        rows.sort_unstable();
        orig.sort_unstable();
        assert_eq!(rows, orig, "the same rows, dealt anew");
        assert_ne!(null.p, preds.p);
        assert_eq!(null, permuted(&preds, 2, 7), "seeded");
        // Over costs 1 to 4 the oracle's hull rises from (1, ½) to (2.5, 1), then stays:
        // AIQ (0.75 · 1.5 + 1.5) / 3 = 0.875. Dealt at random, its choices fall about the zero
        // router's line from (1, ½) to (4, 1), whose AIQ is 0.75.
        assert!((aiq(&preds) - 0.875).abs() < 1e-9, "{}", aiq(&preds));
        assert!((aiq(&null) - 0.75).abs() < 0.02, "{}", aiq(&null));
        let test = test(&t, &preds, 19, 1);
        assert_eq!(test.p_value, 0.05, "no permutation reaches the oracle");
        assert!(test.aiq_vs_permuted > 0.1, "{test:?}");
        assert!(
            test.warning().unwrap().starts_with("CHANCE: "),
            "p = 0.05 is not below α"
        );
        assert_eq!(super::test(&t, &preds, 99, 1).warning(), None);
    }

    #[test]
    fn a_router_of_noise_is_within_chance() {
        // Probabilities from a hash of the prompt index: no link to which tier passes.
        let t = table();
        let preds = Predictions {
            p: (0..400u64)
                .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f32 / (1u64 << 24) as f32)
                .collect(),
            cost: [1.0, 4.0].repeat(200),
            chosen: vec![0; 200],
            choosable: Vec::new(),
        };
        let test = test(&t, &preds, 99, 1);
        assert!(test.p_value > 0.05, "{test:?}");
        assert!(test.aiq_vs_permuted.abs() < 0.02, "{test:?}");
        assert!(test.warning().unwrap().contains("p = "));
    }

    #[test]
    fn rows_stay_among_prompts_of_the_same_choosable_tiers() {
        // Rows told apart by their first probability; the first 100 prompts may choose only
        // tier b, the rest either.
        let mask: Vec<bool> = (0..200)
            .flat_map(|i| if i < 100 { [false, true] } else { [true, true] })
            .collect();
        let preds = Predictions {
            p: (0..200).flat_map(|i| [i as f32 / 1000.0, 0.5]).collect(),
            cost: [1.0, 4.0].repeat(200),
            chosen: (0..200).map(|i| i % 2).collect(),
            choosable: mask.clone(),
        };
        let null = permuted(&preds, 2, 3);
        assert_eq!(null.choosable, mask);
        let mut moved = 0;
        for i in 0..200 {
            let j = (null.p[2 * i] * 1000.0).round() as usize;
            assert_eq!(i < 100, j < 100, "prompt {i} got prompt {j}'s row");
            assert_eq!(
                null.chosen[i], preds.chosen[j],
                "the choice moves with its row"
            );
            moved += (i != j) as usize;
        }
        assert!(moved > 150, "{moved} of 200 rows moved");
    }
}
