//! The outcome table: log rows grouped into prompts × tiers. Each cell holds the mean score and
//! cost over repeats; cells nobody observed stay missing, never 0. This is the input of training
//! and evals.
use std::collections::{BTreeMap, HashMap};

use crate::log::LogRow;
use crate::tiers::TierConfig;

/// One prompt of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptInfo {
    /// Prompt id (see [`LogRow::prompt_id`]).
    pub id: String,
    /// Routing text.
    pub text: String,
    /// The `feature` tag of its first row that has one.
    pub feature: Option<String>,
    /// Conversation turns.
    pub turns: usize,
}

/// One prompt × tier cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    /// Mean score over the rows with a score, or missing.
    pub score: Option<f64>,
    /// Mean cost over the rows with a cost (logged, or priced from tokens), or missing.
    pub cost: Option<f64>,
    /// Mean input tokens over rows that logged them.
    pub input_tokens: Option<f64>,
    /// Mean output tokens over rows that logged them.
    pub output_tokens: Option<f64>,
    /// Rows that fell into this cell.
    pub rows: u32,
}

/// Counts a table reports about how it was built.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct OutcomeCounts {
    /// Rows offered.
    pub rows: usize,
    /// Distinct prompts.
    pub prompts: usize,
    /// Cells with a known score, per tier.
    pub observed_per_tier: Vec<usize>,
    /// Rows whose model maps to no tier, by model.
    pub unmapped_models: BTreeMap<String, usize>,
    /// Rows that map to a tier but carry no score.
    pub rows_without_score: usize,
}

impl OutcomeCounts {
    /// Rows whose model maps to no tier.
    pub fn unmapped_rows(&self) -> usize {
        self.unmapped_models.values().sum()
    }
}

/// Prompts × tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeTable {
    /// Tier names, in config order (cheapest first).
    pub tiers: Vec<String>,
    /// Pass mark per tier.
    pub pass_marks: Vec<f64>,
    /// The prompts, in order of first appearance.
    pub prompts: Vec<PromptInfo>,
    /// Row-major cells: `cells[p * tiers.len() + t]`.
    pub cells: Vec<Cell>,
    /// How the table was built.
    pub counts: OutcomeCounts,
}

#[derive(Default)]
struct Acc {
    score: (f64, u32),
    cost: (f64, u32),
    input: (f64, u32),
    output: (f64, u32),
    rows: u32,
}

fn mean((sum, n): (f64, u32)) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

impl OutcomeTable {
    /// Group rows by prompt id and by tier (via the config's model mapping, else the row's `tier`
    /// name). A row without `cost_usd` is priced from its tokens when the tier has prices.
    pub fn build(rows: &[LogRow], config: &TierConfig) -> OutcomeTable {
        let nt = config.tiers.len();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut prompts = Vec::new();
        let mut accs: Vec<Acc> = Vec::new();
        let mut counts = OutcomeCounts {
            rows: rows.len(),
            ..Default::default()
        };
        for row in rows {
            let tier = config.tier_of_row(row);
            let Some(t) = tier else {
                *counts.unmapped_models.entry(row.model.clone()).or_default() += 1;
                continue;
            };
            let id = row.prompt_id();
            let p = match index.get(&id) {
                Some(&p) => p,
                None => {
                    let p = prompts.len();
                    index.insert(id.clone(), p);
                    prompts.push(PromptInfo {
                        id,
                        text: row.routing_text(),
                        feature: None,
                        turns: row.turns(),
                    });
                    accs.extend((0..nt).map(|_| Acc::default()));
                    p
                }
            };
            if prompts[p].feature.is_none() {
                prompts[p].feature = row.feature.clone();
            }
            let acc = &mut accs[p * nt + t];
            acc.rows += 1;
            match row.score {
                Some(s) => acc.score = (acc.score.0 + s, acc.score.1 + 1),
                None => counts.rows_without_score += 1,
            }
            let cost = config.row_cost(row, Some(t));
            if let Some(c) = cost {
                acc.cost = (acc.cost.0 + c, acc.cost.1 + 1);
            }
            if let Some(x) = row.input_tokens {
                acc.input = (acc.input.0 + x as f64, acc.input.1 + 1);
            }
            if let Some(x) = row.output_tokens {
                acc.output = (acc.output.0 + x as f64, acc.output.1 + 1);
            }
        }
        let cells: Vec<Cell> = accs
            .into_iter()
            .map(|a| Cell {
                score: mean(a.score),
                cost: mean(a.cost),
                input_tokens: mean(a.input),
                output_tokens: mean(a.output),
                rows: a.rows,
            })
            .collect();
        counts.prompts = prompts.len();
        counts.observed_per_tier = (0..nt)
            .map(|t| {
                (0..prompts.len())
                    .filter(|&p| cells[p * nt + t].score.is_some())
                    .count()
            })
            .collect();
        OutcomeTable {
            tiers: config.names(),
            pass_marks: config.tiers.iter().map(|t| t.pass_mark).collect(),
            prompts,
            cells,
            counts,
        }
    }

    /// Number of prompts.
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    /// True when the table has no prompts.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// Number of tiers.
    pub fn n_tiers(&self) -> usize {
        self.tiers.len()
    }

    /// The cell of prompt `p` and tier `t`.
    pub fn cell(&self, p: usize, t: usize) -> &Cell {
        &self.cells[p * self.tiers.len() + t]
    }

    /// Whether tier `t` passed prompt `p` (score ≥ pass mark), or missing.
    pub fn passed(&self, p: usize, t: usize) -> Option<bool> {
        self.cell(p, t).score.map(|s| s >= self.pass_marks[t])
    }

    /// A table of the given prompts only (in that order), with counts recomputed.
    pub fn subset(&self, idx: &[usize]) -> OutcomeTable {
        let nt = self.tiers.len();
        let prompts: Vec<PromptInfo> = idx.iter().map(|&p| self.prompts[p].clone()).collect();
        let cells: Vec<Cell> = idx
            .iter()
            .flat_map(|&p| self.cells[p * nt..(p + 1) * nt].iter().copied())
            .collect();
        let observed = (0..nt)
            .map(|t| {
                (0..idx.len())
                    .filter(|&p| cells[p * nt + t].score.is_some())
                    .count()
            })
            .collect();
        OutcomeTable {
            tiers: self.tiers.clone(),
            pass_marks: self.pass_marks.clone(),
            counts: OutcomeCounts {
                rows: cells.iter().map(|c| c.rows as usize).sum(),
                prompts: prompts.len(),
                observed_per_tier: observed,
                unmapped_models: BTreeMap::new(),
                rows_without_score: 0,
            },
            prompts,
            cells,
        }
    }

    /// Mean score and mean cost of each tier over the prompts where it was observed:
    /// `(quality, cost, observed)`.
    pub fn tier_summary(&self) -> Vec<(Option<f64>, Option<f64>, usize)> {
        (0..self.n_tiers())
            .map(|t| {
                let (mut q, mut nq, mut c, mut nc) = (0.0, 0usize, 0.0, 0usize);
                for p in 0..self.len() {
                    let cell = self.cell(p, t);
                    if let Some(s) = cell.score {
                        q += s;
                        nq += 1;
                    }
                    if let Some(x) = cell.cost {
                        c += x;
                        nc += 1;
                    }
                }
                (
                    (nq > 0).then(|| q / nq as f64),
                    (nc > 0).then(|| c / nc as f64),
                    nq,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::Tier;

    fn row(prompt: &str, model: &str, score: Option<f64>, cost: Option<f64>) -> LogRow {
        LogRow {
            score,
            cost_usd: cost,
            ..LogRow::new(prompt, model)
        }
    }

    #[test]
    fn groups_averages_and_keeps_missing() {
        let config = TierConfig::new(vec![Tier::new("a", "ma"), Tier::new("b", "mb")]).unwrap();
        let rows = vec![
            row("p1", "ma", Some(1.0), Some(0.1)),
            row("p1", "ma", Some(0.0), Some(0.3)),
            row("p1", "mb", None, Some(1.0)),
            row(" p1 ", "mb", Some(1.0), None),
            row("p2", "mb", Some(0.0), Some(2.0)),
            row("p2", "zz", Some(1.0), None),
        ];
        let t = OutcomeTable::build(&rows, &config);
        assert_eq!(t.len(), 2);
        assert_eq!(t.cell(0, 0).score, Some(0.5));
        assert!((t.cell(0, 0).cost.unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(t.cell(0, 1).score, Some(1.0));
        assert_eq!(t.cell(1, 0).score, None);
        assert_eq!(t.passed(1, 1), Some(false));
        assert_eq!(t.counts.observed_per_tier, vec![1, 2]);
        assert_eq!(t.counts.unmapped_rows(), 1);
        assert_eq!(t.counts.rows_without_score, 1);
        let s = t.subset(&[1]);
        assert_eq!(s.prompts[0].text, "p2");
        assert_eq!(s.counts.observed_per_tier, vec![0, 1]);
    }
}
