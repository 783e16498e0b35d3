//! The cost/quality dashboard over logs: calls, tokens, cache-read share, cost and score per
//! feature, customer, model, tier or day, plus the per-tier quality/cost table of the outcome
//! table. Pure computation; printing is the CLI's job.
use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::log::{LogRow, Status};
use crate::outcome::{OutcomeCounts, OutcomeTable};
use crate::tiers::TierConfig;

/// What to group rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// The `feature` tag.
    Feature,
    /// The `customer` tag.
    Customer,
    /// The model that answered.
    #[default]
    Model,
    /// The tier (by the config's model mapping, else the row's `tier`).
    Tier,
    /// The UTC day of `ts`.
    Day,
}

impl FromStr for GroupBy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "feature" => GroupBy::Feature,
            "customer" => GroupBy::Customer,
            "model" => GroupBy::Model,
            "tier" => GroupBy::Tier,
            "day" => GroupBy::Day,
            _ => {
                return Err(Error::Invalid(format!(
                    "cannot group by `{s}`: use feature, customer, model, tier or day"
                )))
            }
        })
    }
}

/// Figures of one group of rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupStats {
    /// The group's key (`(none)` when the rows lack it).
    pub key: String,
    /// Rows (calls).
    pub calls: usize,
    /// Calls with `status: error`.
    pub errors: usize,
    /// Sum of `input_tokens` over the rows that log it (absent when none does).
    pub input_tokens: Option<u64>,
    /// Sum of `output_tokens` over the rows that log it (absent when none does).
    pub output_tokens: Option<u64>,
    /// Cache-read input tokens / input tokens, over rows that log input tokens.
    pub cache_read_share: Option<f64>,
    /// Total cost in USD over rows with a known cost.
    pub total_cost: f64,
    /// Rows with a known cost (logged, or priced from tokens with `--tiers`).
    pub costed: usize,
    /// Mean cost per costed row.
    pub mean_cost: Option<f64>,
    /// This group's share of the total cost.
    pub cost_share: Option<f64>,
    /// Mean score over the rows with a score.
    pub mean_score: Option<f64>,
    /// Rows with a score.
    pub scored: usize,
}

/// One tier of the outcome table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierStats {
    /// Tier name.
    pub name: String,
    /// The model(s) it maps.
    pub models: Vec<String>,
    /// Prompts with a known score for this tier.
    pub observed: usize,
    /// Mean score over those prompts (each prompt's repeats averaged first).
    pub quality: Option<f64>,
    /// Share of those prompts that passed (score ≥ pass mark).
    pub pass_rate: Option<f64>,
    /// Mean cost per prompt over prompts with a known cost.
    pub mean_cost: Option<f64>,
}

/// The whole dashboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// What the groups are.
    pub by: GroupBy,
    /// Rows.
    pub rows: usize,
    /// Distinct prompt ids.
    pub prompts: usize,
    /// Distinct models.
    pub models: usize,
    /// All rows as one group.
    pub total: GroupStats,
    /// The groups: by day in date order (rows without a day last), else by total cost, then calls, descending.
    pub groups: Vec<GroupStats>,
    /// Where the tiers came from: `config` or `one tier per model`.
    pub tiers_from: String,
    /// The per-tier quality/cost table, cheapest tier first.
    pub tiers: Vec<TierStats>,
    /// How the outcome table was built (prompts, observed cells, unmapped models).
    pub outcome: OutcomeCounts,
}

#[derive(Default)]
struct Acc {
    g: GroupStats,
    score_sum: f64,
    cache_read: u64,
    input_for_cache: u64,
}

impl Acc {
    fn add(&mut self, row: &LogRow, cost: Option<f64>) {
        let g = &mut self.g;
        g.calls += 1;
        g.errors += usize::from(row.status == Some(Status::Error));
        if let Some(x) = row.input_tokens {
            *g.input_tokens.get_or_insert(0) += x;
            self.input_for_cache += x;
            self.cache_read += row.cache_read_tokens.unwrap_or(0);
        }
        if let Some(x) = row.output_tokens {
            *g.output_tokens.get_or_insert(0) += x;
        }
        if let Some(c) = cost {
            g.total_cost += c;
            g.costed += 1;
        }
        if let Some(s) = row.score {
            self.score_sum += s;
            g.scored += 1;
        }
    }

    fn finish(mut self, key: String, grand_total: f64) -> GroupStats {
        let g = &mut self.g;
        g.key = key;
        g.cache_read_share = (self.input_for_cache > 0)
            .then(|| self.cache_read as f64 / self.input_for_cache as f64);
        g.mean_cost = (g.costed > 0).then(|| g.total_cost / g.costed as f64);
        g.cost_share = (grand_total > 0.0).then(|| g.total_cost / grand_total);
        g.mean_score = (g.scored > 0).then(|| self.score_sum / g.scored as f64);
        self.g
    }
}

/// Compute the dashboard. Without `config`, each model is its own tier, cheapest first by mean
/// logged cost ([`TierConfig::per_model`]). An empty `rows` is an error.
pub fn compute(rows: &[LogRow], config: Option<&TierConfig>, by: GroupBy) -> Result<Stats> {
    if rows.is_empty() {
        return Err(Error::Invalid("no rows to summarise".into()));
    }
    let per_model;
    let (effective, tiers_from) = match config {
        Some(c) => (c, "config"),
        None => {
            per_model = TierConfig::per_model(rows)?;
            (&per_model, "one tier per model")
        }
    };
    let mut total = Acc::default();
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    let mut prompts = HashSet::new();
    let mut models = HashSet::new();
    for row in rows {
        prompts.insert(row.prompt_id());
        models.insert(row.model.as_str());
        let tier = effective.tier_of_row(row);
        let cost = effective.row_cost(row, tier);
        total.add(row, cost);
        groups
            .entry(key_of(row, by, config, tier))
            .or_default()
            .add(row, cost);
    }
    let grand = total.g.total_cost;
    let mut groups: Vec<GroupStats> = groups
        .into_iter()
        .map(|(k, a)| a.finish(k, grand))
        .collect();
    if by == GroupBy::Day {
        groups.sort_by_key(|g| (g.key.starts_with('('), g.key.clone()));
    } else {
        groups.sort_by(|a, b| {
            b.total_cost
                .total_cmp(&a.total_cost)
                .then(b.calls.cmp(&a.calls))
                .then(a.key.cmp(&b.key))
        });
    }
    let table = OutcomeTable::build(rows, effective);
    let summary = table.tier_summary();
    let tiers = effective
        .tiers
        .iter()
        .enumerate()
        .map(|(t, tier)| {
            let passed = (0..table.len())
                .filter(|&p| table.passed(p, t) == Some(true))
                .count();
            let (quality, mean_cost, observed) = summary[t];
            TierStats {
                name: tier.name.clone(),
                models: std::iter::once(tier.model.clone())
                    .chain(tier.models.iter().cloned())
                    .collect(),
                observed,
                quality,
                pass_rate: (observed > 0).then(|| passed as f64 / observed as f64),
                mean_cost,
            }
        })
        .collect();
    Ok(Stats {
        by,
        rows: rows.len(),
        prompts: prompts.len(),
        models: models.len(),
        total: total.finish("total".into(), grand),
        groups,
        tiers_from: tiers_from.into(),
        tiers,
        outcome: table.counts,
    })
}

fn key_of(row: &LogRow, by: GroupBy, config: Option<&TierConfig>, tier: Option<usize>) -> String {
    let none = || "(none)".to_string();
    match by {
        GroupBy::Feature => row.feature.clone().unwrap_or_else(none),
        GroupBy::Customer => row.customer.clone().unwrap_or_else(none),
        GroupBy::Model => row.model.clone(),
        GroupBy::Tier => match config {
            // With a config, its model mapping decides; without, the logged tier does.
            Some(c) => tier
                .map(|t| c.tiers[t].name.clone())
                .or_else(|| row.tier.clone())
                .unwrap_or_else(none),
            None => row.tier.clone().unwrap_or_else(|| row.model.clone()),
        },
        GroupBy::Day => match &row.ts {
            None => "(no ts)".into(),
            Some(ts) => {
                time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                    .map(|t| t.to_offset(time::UtcOffset::UTC).date().to_string())
                    .unwrap_or_else(|_| "(bad ts)".into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{Price, Tier};

    fn row(prompt: &str, model: &str, score: Option<f64>, cost: Option<f64>) -> LogRow {
        LogRow {
            score,
            cost_usd: cost,
            ..LogRow::new(prompt, model)
        }
    }

    #[test]
    fn groups_and_tiers_without_config() {
        let mut rows = vec![
            row("p1", "big", Some(1.0), Some(0.3)),
            row("p1", "small", Some(0.0), Some(0.1)),
            row("p2", "big", Some(1.0), Some(0.5)),
            row("p2", "small", None, Some(0.1)),
        ];
        rows[0].input_tokens = Some(100);
        rows[0].cache_read_tokens = Some(25);
        rows[0].ts = Some("2025-01-06T23:30:00-02:00".into());
        let s = compute(&rows, None, GroupBy::Model).unwrap();
        assert_eq!((s.rows, s.prompts, s.models), (4, 2, 2));
        assert_eq!(s.groups[0].key, "big");
        assert!((s.groups[0].cost_share.unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(s.groups[0].cache_read_share, Some(0.25));
        assert_eq!(s.groups[0].input_tokens, Some(100));
        assert_eq!(s.groups[1].input_tokens, None, "no row logs tokens");
        assert_eq!(s.groups[1].scored, 1);
        assert_eq!(s.groups[1].mean_score, Some(0.0));
        assert_eq!(s.tiers_from, "one tier per model");
        assert_eq!(s.tiers[0].name, "small");
        assert_eq!((s.tiers[0].observed, s.tiers[1].observed), (1, 2));
        assert_eq!(s.tiers[1].pass_rate, Some(1.0));
        assert!((s.tiers[1].mean_cost.unwrap() - 0.4).abs() < 1e-12);
        let d = compute(&rows, None, GroupBy::Day).unwrap();
        assert_eq!(d.groups[0].key, "2025-01-07");
        assert_eq!(d.groups[1].key, "(no ts)");
        assert!(compute(&[], None, GroupBy::Model).is_err());
        assert!("colour".parse::<GroupBy>().is_err());
    }

    #[test]
    fn config_maps_tiers_and_prices_tokens() {
        let mut cheap = Tier::new("cheap", "small");
        cheap.price = Price {
            input: 1.0,
            output: 1.0,
            ..Price::default()
        };
        let config = TierConfig::new(vec![cheap, Tier::new("dear", "big")]).unwrap();
        let mut r = row("p1", "small", Some(1.0), None);
        r.input_tokens = Some(1_000_000);
        r.output_tokens = Some(0);
        let rows = vec![r, row("p1", "other", Some(1.0), Some(2.0))];
        let s = compute(&rows, Some(&config), GroupBy::Tier).unwrap();
        assert_eq!(s.groups[0].key, "(none)");
        assert_eq!(s.groups[1].key, "cheap");
        assert_eq!(s.groups[1].total_cost, 1.0, "priced from tokens");
        assert_eq!(s.outcome.unmapped_rows(), 1);
        assert_eq!(s.tiers[1].observed, 0);
        assert_eq!(s.tiers[1].quality, None);
    }
}
