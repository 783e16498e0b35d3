//! Decisions made elsewhere (the `tierwise route` output, one JSON object a line:
//! `{"id", "tier", "model", "difficulty", "p": {tier: prob}, "expected_cost_usd": {tier: usd}}`,
//! and `"choosable": [tier, …]` when the router may choose only those tiers for the prompt)
//! aligned with an eval table, so they are scored exactly like a router evaluated in-process.
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::table::{EvalTable, Predictions, PromptCounts};

/// One parsed decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The chosen tier's index.
    pub tier: usize,
    /// P(pass) per tier, in table order.
    pub p: Vec<f32>,
    /// Expected cost per tier, in table order.
    pub cost: Vec<f64>,
    /// The tiers the router may choose, in table order; empty: every tier.
    pub choosable: Vec<bool>,
}

/// Read a decisions file against the tier names; every bad line names its file, line and field.
/// Fields other than `id`, `tier`, `p`, `expected_cost_usd` and `choosable` are ignored.
pub fn read(path: &Path, tiers: &[String]) -> Result<HashMap<String, Decision>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut out = HashMap::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |field: &str, reason: String| Error::InvalidLine {
            file: name.clone(),
            line: i + 1,
            field: field.to_string(),
            reason,
        };
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| bad("(json)", format!("malformed JSON: {e}")))?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("id", "a string id is required".into()))?;
        let tier_name = v
            .get("tier")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("tier", "a string tier is required".into()))?;
        let tier = tiers.iter().position(|t| t == tier_name).ok_or_else(|| {
            bad(
                "tier",
                format!(
                    "`{tier_name}` is not one of the tiers ({})",
                    tiers.join(", ")
                ),
            )
        })?;
        let per_tier = |field: &str, lo: f64, hi: f64| -> Result<Vec<f64>> {
            let obj = v
                .get(field)
                .and_then(Value::as_object)
                .ok_or_else(|| bad(field, "an object keyed by tier name is required".into()))?;
            tiers
                .iter()
                .map(|t| {
                    let key = format!("{field}.{t}");
                    let x = obj
                        .get(t)
                        .ok_or_else(|| bad(&key, "missing".into()))?
                        .as_f64()
                        .ok_or_else(|| bad(&key, "not a number".into()))?;
                    match out_of_range(x, lo, hi) {
                        Some(why) => Err(bad(&key, why)),
                        None => Ok(x),
                    }
                })
                .collect()
        };
        let p = per_tier("p", 0.0, 1.0)?
            .into_iter()
            .map(|x| x as f32)
            .collect();
        let cost = per_tier("expected_cost_usd", 0.0, f64::INFINITY)?;
        let mut choosable = Vec::new();
        if let Some(list) = v.get("choosable") {
            let list = list
                .as_array()
                .ok_or_else(|| bad("choosable", "a list of tier names is required".into()))?;
            choosable = vec![false; tiers.len()];
            for (k, name) in list.iter().enumerate() {
                let key = format!("choosable[{k}]");
                let name = name
                    .as_str()
                    .ok_or_else(|| bad(&key, "a tier name is required".into()))?;
                let t = tiers.iter().position(|t| t == name).ok_or_else(|| {
                    bad(
                        &key,
                        format!("`{name}` is not one of the tiers ({})", tiers.join(", ")),
                    )
                })?;
                choosable[t] = true;
            }
            if !choosable[tier] {
                return Err(bad(
                    "tier",
                    format!("`{tier_name}` is not among the line's `choosable` tiers"),
                ));
            }
        }
        // `tierwise route` on a log file answers every row, so a prompt logged once per tier
        // repeats: the same decision again is fine, a different one is an error.
        let d = Decision {
            tier,
            p,
            cost,
            choosable,
        };
        match out.get(id) {
            Some(prev) if *prev != d => {
                return Err(bad(
                    "id",
                    format!("`{id}` has a different decision on an earlier line"),
                ))
            }
            Some(_) => {}
            None => {
                out.insert(id.to_string(), d);
            }
        }
    }
    Ok(out)
}

/// Keep the table's prompts that have a decision (counting the others in
/// `counts.skipped_no_decision`) and build the matching predictions. Returns how many decisions
/// matched no prompt of the table.
pub fn align(
    table: &EvalTable,
    counts: &mut PromptCounts,
    decisions: &HashMap<String, Decision>,
) -> (EvalTable, Predictions, usize) {
    let keep: Vec<usize> = (0..table.len())
        .filter(|&p| decisions.contains_key(&table.ids[p]))
        .collect();
    counts.skipped_no_decision += table.len() - keep.len();
    counts.used = keep.len();
    let sub = table.select(&keep);
    let mut preds = Predictions {
        p: Vec::with_capacity(sub.len() * sub.n_tiers()),
        cost: Vec::with_capacity(sub.len() * sub.n_tiers()),
        chosen: Vec::with_capacity(sub.len()),
        choosable: Vec::new(),
    };
    let restricted = sub.ids.iter().any(|id| !decisions[id].choosable.is_empty());
    for id in &sub.ids {
        let d = &decisions[id];
        preds.p.extend(&d.p);
        preds.cost.extend(&d.cost);
        preds.chosen.push(d.tier);
        if restricted && d.choosable.is_empty() {
            preds.choosable.extend(std::iter::repeat_n(true, d.p.len()));
        } else if restricted {
            preds.choosable.extend(&d.choosable);
        }
    }
    let unmatched = decisions.len() - keep.len();
    (sub, preds, unmatched)
}

/// Why `x` is not in `[lo, hi]`, or `None` when it is; an infinite bound is left unsaid
/// (`must be ≥ 0`, not an interval ending in a 309-digit number).
fn out_of_range(x: f64, lo: f64, hi: f64) -> Option<String> {
    if (lo..=hi).contains(&x) {
        return None;
    }
    Some(match (lo.is_finite(), hi.is_finite()) {
        (true, true) => format!("must be in [{lo}, {hi}], got {x}"),
        (true, false) => format!("must be ≥ {lo}, got {x}"),
        (false, true) => format!("must be ≤ {hi}, got {x}"),
        (false, false) => format!("must be a number, got {x}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_checks_and_aligns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let tiers = vec!["a".to_string(), "b".to_string()];
        let line = |id: &str, tier: &str, pa: f64| {
            format!(
                r#"{{"id":"{id}","tier":"{tier}","model":"m","difficulty":0,"p":{{"a":{pa},"b":0.9}},"expected_cost_usd":{{"a":0.001,"b":0.01}}}}"#
            )
        };
        let text = [
            line("p0", "b", 0.2),
            line("p9", "a", 0.8),
            line("p2", "a", 0.7),
            line("p0", "b", 0.2),
        ]
        .join("\n");
        std::fs::write(&path, text).unwrap();
        let d = read(&path, &tiers).unwrap();
        assert_eq!(d["p0"].tier, 1);
        let t = EvalTable::from_parts(
            &["a", "b"],
            vec![0., 1., 1., 1., 0., 0.],
            vec![1., 2., 1., 2., 1., 2.],
        )
        .unwrap();
        let mut counts = PromptCounts {
            in_logs: 3,
            used: 3,
            ..Default::default()
        };
        let (sub, preds, unmatched) = align(&t, &mut counts, &d);
        assert_eq!(sub.ids, vec!["p0", "p2"]);
        assert_eq!(
            (counts.used, counts.skipped_no_decision, unmatched),
            (2, 1, 1)
        );
        assert_eq!(preds.chosen, vec![1, 0]);
        assert_eq!(preds.p, vec![0.2, 0.9, 0.7, 0.9]);
        assert!(preds.choosable.is_empty());
        // A line restricted to some tiers: the others become rows of every tier.
        let only =
            |l: String, tiers: &str| format!("{},\"choosable\":{tiers}}}", &l[..l.len() - 1]);
        let text = [only(line("p0", "b", 0.2), r#"["b"]"#), line("p2", "a", 0.7)].join("\n");
        std::fs::write(&path, text).unwrap();
        let d = read(&path, &tiers).unwrap();
        assert_eq!(d["p0"].choosable, [false, true]);
        let (_, preds, _) = align(&t, &mut counts, &d);
        assert_eq!(preds.choosable, [false, true, true, true]);
        preds.check(&t.select(&[0, 2])).unwrap();

        for (text, want) in [
            (line("x", "c", 0.1), ":1: field `tier`"),
            (
                line("x", "a", 1.5),
                ":1: field `p.a`: must be in [0, 1], got 1.5",
            ),
            (
                line("x", "a", 0.1).replace("\"a\":0.001", "\"a\":-1"),
                ":1: field `expected_cost_usd.a`: must be ≥ 0, got -1",
            ),
            (
                format!("{}\n{}", line("x", "a", 0.1), line("x", "a", 0.2)),
                ":2: field `id`",
            ),
            ("{\"id\":1}".into(), ":1: field `id`"),
            ("nope".into(), ":1: field `(json)`"),
            (
                only(line("x", "a", 0.1), r#"["b"]"#),
                ":1: field `tier`: `a` is not among the line's `choosable` tiers",
            ),
            (
                only(line("x", "a", 0.1), r#"["a","z"]"#),
                ":1: field `choosable[1]`: `z` is not one of the tiers (a, b)",
            ),
            (only(line("x", "a", 0.1), "\"a\""), ":1: field `choosable`"),
            (
                line("x", "a", 0.1).replace(",\"b\":0.01", ""),
                "field `expected_cost_usd.b`",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let e = read(&path, &tiers).unwrap_err().to_string();
            assert!(e.contains("d.jsonl") && e.contains(want), "{e}");
        }
    }
}
