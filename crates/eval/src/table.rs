//! The dense eval table: prompts × tiers with a logged score q and cost c in every cell, built
//! from core's [`OutcomeTable`] by leaving out (and counting) prompts with a missing cell, and the
//! router's per-prompt predictions aligned to it.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tierwise_core::OutcomeTable;

use crate::error::{Error, Result};

/// Prompts × tiers with no missing cell. Row-major: `q[p * n_tiers + t]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalTable {
    /// Tier names, in config order (cheapest first).
    pub tiers: Vec<String>,
    /// Pass mark per tier.
    pub pass_marks: Vec<f64>,
    /// Prompt ids.
    pub ids: Vec<String>,
    /// Routing text of each prompt (for the leakage check).
    pub texts: Vec<String>,
    /// The `feature` tag of each prompt.
    pub features: Vec<Option<String>>,
    /// Logged quality scores in [0, 1].
    pub q: Vec<f64>,
    /// Logged costs (≥ 0).
    pub c: Vec<f64>,
}

/// Why prompts of the logs were not used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptCounts {
    /// Distinct prompts in the logs (that map to a tier).
    pub in_logs: usize,
    /// Prompts the metrics use.
    pub used: usize,
    /// Prompts left out because some tier has no score for them.
    pub skipped_missing_score: usize,
    /// Prompts left out because some tier has a score but no cost (and none was priced).
    pub skipped_missing_cost: usize,
    /// Prompts left out because the router (or decisions file) gave no decision for them.
    pub skipped_no_decision: usize,
    /// Per tier: prompts whose cell for that tier lacks a score or a cost.
    pub missing_cells_per_tier: BTreeMap<String, usize>,
}

impl EvalTable {
    /// Keep the prompts with a score and a cost for every tier; count the others by reason
    /// (a prompt missing a score somewhere counts as `skipped_missing_score` even if a cost is
    /// missing too).
    pub fn from_outcome(table: &OutcomeTable) -> (EvalTable, PromptCounts) {
        let nt = table.n_tiers();
        let mut out = EvalTable {
            tiers: table.tiers.clone(),
            pass_marks: table.pass_marks.clone(),
            ids: Vec::new(),
            texts: Vec::new(),
            features: Vec::new(),
            q: Vec::new(),
            c: Vec::new(),
        };
        let mut counts = PromptCounts {
            in_logs: table.len(),
            missing_cells_per_tier: table.tiers.iter().map(|t| (t.clone(), 0)).collect(),
            ..Default::default()
        };
        for p in 0..table.len() {
            let cells: Vec<_> = (0..nt).map(|t| table.cell(p, t)).collect();
            for (t, cell) in cells.iter().enumerate() {
                if cell.score.is_none() || cell.cost.is_none() {
                    *counts
                        .missing_cells_per_tier
                        .get_mut(&table.tiers[t])
                        .expect("every tier is a key") += 1;
                }
            }
            if cells.iter().any(|c| c.score.is_none()) {
                counts.skipped_missing_score += 1;
                continue;
            }
            if cells.iter().any(|c| c.cost.is_none()) {
                counts.skipped_missing_cost += 1;
                continue;
            }
            let info = &table.prompts[p];
            out.ids.push(info.id.clone());
            out.texts.push(info.text.clone());
            out.features.push(info.feature.clone());
            out.q
                .extend(cells.iter().map(|c| c.score.expect("checked")));
            out.c.extend(cells.iter().map(|c| c.cost.expect("checked")));
        }
        counts.used = out.len();
        (out, counts)
    }

    /// A table from raw numbers (row-major, `q.len() == c.len() == n × tiers`), checked:
    /// scores in [0, 1], costs finite and ≥ 0. Prompts get ids `p0`, `p1`, …
    pub fn from_parts(tiers: &[&str], q: Vec<f64>, c: Vec<f64>) -> Result<EvalTable> {
        let nt = tiers.len();
        if nt == 0 || q.len() != c.len() || q.len() % nt != 0 {
            return Err(Error::Invalid(format!(
                "eval table: {} scores and {} costs do not fill rows of {nt} tiers",
                q.len(),
                c.len()
            )));
        }
        if let Some(i) = q.iter().position(|x| !(0.0..=1.0).contains(x)) {
            return Err(Error::Invalid(format!(
                "eval table: score {} of prompt {} is outside [0, 1]",
                q[i],
                i / nt
            )));
        }
        if let Some(i) = c.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(Error::Invalid(format!(
                "eval table: cost {} of prompt {} is not a number ≥ 0",
                c[i],
                i / nt
            )));
        }
        let n = q.len() / nt;
        Ok(EvalTable {
            tiers: tiers.iter().map(|t| t.to_string()).collect(),
            pass_marks: vec![0.5; nt],
            ids: (0..n).map(|p| format!("p{p}")).collect(),
            texts: (0..n).map(|p| format!("prompt {p}")).collect(),
            features: vec![None; n],
            q,
            c,
        })
    }

    /// Number of prompts.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no prompt is left.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of tiers.
    pub fn n_tiers(&self) -> usize {
        self.tiers.len()
    }

    /// Score of prompt `p` on tier `t`.
    pub fn q(&self, p: usize, t: usize) -> f64 {
        self.q[p * self.tiers.len() + t]
    }

    /// Cost of prompt `p` on tier `t`.
    pub fn c(&self, p: usize, t: usize) -> f64 {
        self.c[p * self.tiers.len() + t]
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> EvalTable {
        let nt = self.n_tiers();
        let rows = |v: &Vec<f64>| -> Vec<f64> {
            idx.iter()
                .flat_map(|&p| v[p * nt..(p + 1) * nt].iter().copied())
                .collect()
        };
        EvalTable {
            tiers: self.tiers.clone(),
            pass_marks: self.pass_marks.clone(),
            ids: idx.iter().map(|&p| self.ids[p].clone()).collect(),
            texts: idx.iter().map(|&p| self.texts[p].clone()).collect(),
            features: idx.iter().map(|&p| self.features[p].clone()).collect(),
            q: rows(&self.q),
            c: rows(&self.c),
        }
    }
}

/// What a router said about each prompt of an [`EvalTable`] (same rows, same tier order):
/// P(pass) and expected cost per tier, and the tier it actually chose at its calibrated λ.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Calibrated P(pass), row-major N × T.
    pub p: Vec<f32>,
    /// Expected cost ĉ, row-major N × T.
    pub cost: Vec<f64>,
    /// The tier chosen for each prompt at the router's operating point.
    pub chosen: Vec<usize>,
    /// The tiers the router may choose, row-major N × T (metrics.md's "tiers the router can
    /// choose"); empty: every tier for every prompt.
    pub choosable: Vec<bool>,
}

impl Predictions {
    /// The tiers the router may choose for prompt `i` (empty: every tier).
    pub fn choosable_row(&self, i: usize, nt: usize) -> &[bool] {
        if self.choosable.is_empty() {
            &[]
        } else {
            &self.choosable[i * nt..(i + 1) * nt]
        }
    }

    /// Check the shape against a table: N × T predictions, finite, chosen tiers in range.
    pub fn check(&self, table: &EvalTable) -> Result<()> {
        let (n, nt) = (table.len(), table.n_tiers());
        if self.p.len() != n * nt || self.cost.len() != n * nt || self.chosen.len() != n {
            return Err(Error::Invalid(format!(
                "predictions: {} probabilities, {} costs and {} choices for {n} prompts × {nt} tiers",
                self.p.len(),
                self.cost.len(),
                self.chosen.len()
            )));
        }
        if !self.choosable.is_empty() && self.choosable.len() != n * nt {
            return Err(Error::Invalid(format!(
                "predictions: {} choosable flags for {n} prompts × {nt} tiers",
                self.choosable.len()
            )));
        }
        if self.p.iter().any(|x| !x.is_finite()) || self.cost.iter().any(|x| !x.is_finite()) {
            return Err(Error::Invalid("predictions: a value is not finite".into()));
        }
        if let Some(p) = self.chosen.iter().position(|&t| t >= nt) {
            return Err(Error::Invalid(format!(
                "predictions: prompt {p} chose tier {} of {nt}",
                self.chosen[p]
            )));
        }
        Ok(())
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize], nt: usize) -> Predictions {
        Predictions {
            p: idx
                .iter()
                .flat_map(|&i| self.p[i * nt..(i + 1) * nt].iter().copied())
                .collect(),
            cost: idx
                .iter()
                .flat_map(|&i| self.cost[i * nt..(i + 1) * nt].iter().copied())
                .collect(),
            chosen: idx.iter().map(|&i| self.chosen[i]).collect(),
            choosable: if self.choosable.is_empty() {
                Vec::new()
            } else {
                idx.iter()
                    .flat_map(|&i| self.choosable[i * nt..(i + 1) * nt].iter().copied())
                    .collect()
            },
        }
    }
}
