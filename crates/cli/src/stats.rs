//! `tierwise stats`: the cost/quality dashboard over logs, as aligned tables or `--json`.
use std::path::PathBuf;

use anyhow::Result;
use tierwise_core::stats::{self, GroupBy, GroupStats, Stats};
use tierwise_core::{read_logs, ReadOptions, TierConfig};

/// Arguments of `tierwise stats`.
#[derive(clap::Args)]
pub struct Args {
    /// JSONL log files, read in order.
    #[arg(long, required = true, num_args = 1..)]
    logs: Vec<PathBuf>,
    /// Tier config: maps models to tiers and prices rows that log tokens but no cost. Without
    /// it, each model is its own tier, cheapest first by mean logged cost.
    #[arg(long)]
    tiers: Option<PathBuf>,
    /// What to group rows by.
    #[arg(long, value_enum, default_value_t = By::Model)]
    by: By,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Go on past invalid lines and print a summary of rows read, kept and rejected (stderr).
    #[arg(long)]
    skip_invalid: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum By {
    Feature,
    Customer,
    Model,
    Tier,
    Day,
}

impl From<By> for GroupBy {
    fn from(b: By) -> Self {
        match b {
            By::Feature => GroupBy::Feature,
            By::Customer => GroupBy::Customer,
            By::Model => GroupBy::Model,
            By::Tier => GroupBy::Tier,
            By::Day => GroupBy::Day,
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let config = args.tiers.as_ref().map(TierConfig::from_file).transpose()?;
    let set = read_logs(
        &args.logs,
        ReadOptions {
            skip_invalid: args.skip_invalid,
            progress: true,
        },
    )?;
    if args.skip_invalid {
        eprintln!("{}", set.report.summary());
    }
    let s = stats::compute(&set.rows, config.as_ref(), args.by.into())?;
    if args.json {
        let mut v = serde_json::to_value(&s)?;
        v["read"] = serde_json::to_value(&set.report)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render(&s));
    }
    Ok(())
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn usd(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(x) if x != 0.0 && x.abs() < 0.01 => format!("${x:.6}"),
        Some(x) => format!("${x:.4}"),
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.1}%", 100.0 * x))
}

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.3}"))
}

/// Aligned columns: the first `left` left-aligned, the rest right-aligned.
fn table(header: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            if i == 0 {
                s.push_str(&format!("{c}{pad}"));
            } else if i < left {
                s.push_str(&format!("  {c}{pad}"));
            } else {
                s.push_str(&format!("  {pad}{c}"));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out.push_str(&line(width.iter().map(|w| "-".repeat(*w)).collect()));
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

fn group_row(g: &GroupStats) -> Vec<String> {
    vec![
        g.key.clone(),
        thousands(g.calls as u64),
        g.input_tokens.map_or("-".into(), thousands),
        g.output_tokens.map_or("-".into(), thousands),
        pct(g.cache_read_share),
        usd((g.costed > 0).then_some(g.total_cost)),
        usd(g.mean_cost),
        pct(g.cost_share),
        num(g.mean_score),
        thousands(g.scored as u64),
    ]
}

fn render(s: &Stats) -> String {
    let by = serde_json::to_value(s.by)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut out = format!(
        "{} rows · {} prompts · {} models · {} scored · total cost {}\n\n",
        thousands(s.rows as u64),
        thousands(s.prompts as u64),
        s.models,
        thousands(s.total.scored as u64),
        usd((s.total.costed > 0).then_some(s.total.total_cost)),
    );
    let header = [
        by.as_str(),
        "calls",
        "input tok",
        "output tok",
        "cache-read",
        "total cost",
        "mean cost",
        "cost share",
        "mean score",
        "scored",
    ];
    let mut rows: Vec<Vec<String>> = s.groups.iter().map(group_row).collect();
    rows.push(group_row(&s.total));
    out.push_str(&table(&header, &rows, 1));
    out.push_str(&format!(
        "\nper tier, over the outcome table ({}; cheapest first): {} prompts\n",
        s.tiers_from,
        thousands(s.outcome.prompts as u64)
    ));
    // With one tier per model the model column would repeat the tier name.
    let show_models = s.tiers.iter().any(|t| t.models != [t.name.clone()]);
    let rows: Vec<Vec<String>> = s
        .tiers
        .iter()
        .map(|t| {
            let mut r = vec![t.name.clone()];
            if show_models {
                r.push(t.models.join(", "));
            }
            r.extend([
                thousands(t.observed as u64),
                num(t.quality),
                pct(t.pass_rate),
                usd(t.mean_cost),
            ]);
            r
        })
        .collect();
    let mut header = vec!["tier"];
    if show_models {
        header.push("model(s)");
    }
    header.extend(["prompts", "quality", "pass rate", "mean cost"]);
    out.push_str(&table(&header, &rows, if show_models { 2 } else { 1 }));
    let unmapped = s.outcome.unmapped_rows();
    if unmapped > 0 {
        let models: Vec<&str> = s
            .outcome
            .unmapped_models
            .keys()
            .map(String::as_str)
            .collect();
        out.push_str(&format!(
            "{} rows of models in no tier were left out of this table: {}\n",
            thousands(unmapped as u64),
            models.join(", ")
        ));
    }
    if s.outcome.rows_without_score > 0 {
        out.push_str(&format!(
            "{} rows without a score count as missing cells\n",
            thousands(s.outcome.rows_without_score as u64)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(24383), "24,383");
        assert_eq!(thousands(999), "999");
        assert_eq!(usd(Some(0.000123)), "$0.000123");
        assert_eq!(usd(None), "-");
        let t = table(&["a", "bb"], &[vec!["long".into(), "1".into()]], 1);
        assert_eq!(t, "a     bb\n----  --\nlong   1\n");
    }
}
