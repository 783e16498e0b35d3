//! `report.md`: the report as tables a person reads in a pull request, optionally side by side
//! with a baseline report (previous value and the change, marked better or worse).
use std::fmt::Write;

use crate::bootstrap::Estimate;
use crate::null;
use crate::report::Report;

/// Headline metrics in display order: (name, label, is a cost).
const ROWS: &[(&str, &str, bool)] = &[
    ("quality", "Quality at the operating point", false),
    ("cost", "Mean cost at the operating point", true),
    ("quality_vs_best", "Quality ÷ best tier's", false),
    ("cost_vs_best", "Cost ÷ best tier's", false),
    ("aiq", "AIQ (area under the router's curve)", false),
    (
        "zero_router_aiq",
        "AIQ of the zero router (random mix)",
        false,
    ),
    ("aiq_vs_zero_router", "AIQ gain over the zero router", false),
    (
        "cost_at_best",
        "Cost to match the best tier (÷ its cost)",
        false,
    ),
    (
        "quality_at_50pct_cost",
        "Best quality at ≤ 50% of its cost",
        false,
    ),
    (
        "quality_at_20pct_cost",
        "Best quality at ≤ 20% of its cost",
        false,
    ),
    ("apgr", "APGR (two tiers)", false),
    ("cpt50", "CPT(50%): share to strong tier", false),
    ("cpt80", "CPT(80%): share to strong tier", false),
    ("best_tier_quality", "Best single tier: quality", false),
    ("best_tier_cost", "Best single tier: mean cost", true),
    ("oracle_quality", "Oracle: quality", false),
    ("oracle_cost", "Oracle: mean cost", true),
];

/// Three significant digits, no exponent for the ranges costs and scores live in.
pub fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (2 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{x:.decimals$}")
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), num)
}

fn interval(e: &Estimate) -> String {
    if e.value.is_none() {
        return "–".into();
    }
    let lo = e.lo.map_or_else(|| "−∞".into(), num);
    let hi = e.hi.map_or_else(|| "∞".into(), num);
    format!("[{lo}, {hi}]")
}

fn delta(now: &Estimate, before: Option<&Estimate>) -> (String, String) {
    let Some(before) = before else {
        return ("–".into(), "–".into());
    };
    let change = match (now.value, before.value) {
        (Some(a), Some(b)) => {
            let d = a - b;
            if d.abs() < 1e-12 {
                return (opt(before.value), "0".into());
            }
            let verdict = if d.abs() < 1e-12 {
                ""
            } else if (d > 0.0) == now.higher_is_better {
                " better"
            } else {
                " worse"
            };
            format!(
                "{}{}{verdict}",
                if d >= 0.0 { "+" } else { "−" },
                num(d.abs())
            )
        }
        _ => "–".into(),
    };
    (opt(before.value), change)
}

/// Render the report (and the comparison with `baseline`).
pub fn render(r: &Report, baseline: Option<&Report>) -> String {
    let mut s = String::new();
    let what = r
        .context
        .model
        .as_deref()
        .map(|m| format!("router `{m}`"))
        .or_else(|| {
            r.context
                .decisions
                .as_deref()
                .map(|d| format!("decisions `{d}`"))
        })
        .unwrap_or_else(|| "router".into());
    let _ = writeln!(s, "# tierwise eval: {what}\n");
    let p = &r.prompts;
    let _ = writeln!(
        s,
        "{} prompts evaluated of {} in `{}`; left out: {} missing a score, {} missing a cost, \
         {} without a decision. Tiers: {}. Best single tier: `{}`. 95% intervals from {} \
         bootstrap resamples (seed {}).\n",
        p.used,
        p.in_logs,
        r.context.logs.join("`, `"),
        p.skipped_missing_score,
        p.skipped_missing_cost,
        p.skipped_no_decision,
        r.tiers.join(" < "),
        r.best_tier,
        r.resamples,
        r.seed
    );
    for w in &r.warnings {
        let _ = writeln!(s, "> **Warning:** {w}\n");
    }
    let _ = writeln!(s, "## Router\n");
    if baseline.is_some() {
        let _ = writeln!(s, "| metric | value | 95% interval | baseline | change |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    } else {
        let _ = writeln!(s, "| metric | value | 95% interval |");
        let _ = writeln!(s, "|---|---:|---:|");
    }
    for &(name, label, _) in ROWS {
        let Some(e) = r.metrics.get(name) else {
            continue;
        };
        if e.value.is_none() && matches!(name, "apgr" | "cpt50" | "cpt80") && r.tiers.len() != 2 {
            continue;
        }
        let _ = write!(s, "| {label} | {} | {} |", opt(e.value), interval(e));
        if let Some(b) = baseline {
            let (before, change) = delta(e, b.metrics.get(name));
            let _ = write!(s, " {before} | {change} |");
        }
        s.push('\n');
    }
    let op = &r.operating_point;
    // A prediction with its standard error reads `0.902 ± 0.0153` (a 95% margin).
    let predicted = |v: Option<f64>, se: Option<f64>| match (v, se) {
        (Some(v), Some(se)) => format!("{} ± {}", num(v), num(crate::drift::Z * se)),
        _ => opt(v),
    };
    let _ = writeln!(
        s,
        "\n## Operating point\n\nλ = {}{}.\n\n| | quality | mean cost |\n|---|---:|---:|\n\
         | realised on these prompts | {} | {} |\n| predicted on validation | {} | {} |\n",
        opt(op.lambda),
        op.target
            .as_deref()
            .map(|t| format!(" (target {t})"))
            .unwrap_or_default(),
        num(op.realised_quality),
        num(op.realised_cost),
        predicted(op.predicted_quality, r.context.predicted_quality_se),
        predicted(op.predicted_cost, r.context.predicted_cost_se)
    );
    let _ = writeln!(
        s,
        "## Tiers\n\n| tier | quality | 95% interval | mean cost | cheapest passing | routed here |\n\
         |---|---:|---:|---:|---:|---:|"
    );
    for t in &r.tier_table {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {:.1}% | {:.1}% |",
            t.name,
            opt(t.quality.value),
            interval(&t.quality),
            opt(t.cost.value),
            100.0 * t.cheapest_passing_share,
            100.0 * t.routed_share
        );
    }
    let _ = writeln!(
        s,
        "\nNo tier passes {:.1}% of prompts.\n",
        100.0 * r.no_tier_passes_share
    );
    if r.narrowed_prompts > 0 {
        let _ = writeln!(
            s,
            "For {} of {} prompts the router could choose only some tiers (per feature tag, \
             the tiers the no-features prior would choose; `choosable` in `router.json`).\n",
            r.narrowed_prompts, r.prompts.used
        );
    }
    if let Some(t) = &r.permutation {
        let _ = writeln!(
            s,
            "Against chance: the router's AIQ is {} {} its own predictions dealt to random \
             prompts (mean AIQ {} over {} permutations; permutation p = {:.2}).\n",
            num(t.aiq_vs_permuted.abs()),
            if t.aiq_vs_permuted >= 0.0 {
                "above"
            } else {
                "below"
            },
            num(t.null_aiq),
            t.permutations,
            t.p_value
        );
    }
    if !r.features.is_empty() {
        let _ = writeln!(
            s,
            "## By feature\n\n| feature | prompts | router quality | router cost | best tier | its \
             quality | its cost | oracle quality | AIQ | vs permuted (p) |\n\
             |---|---:|---:|---:|---|---:|---:|---:|---:|---:|"
        );
        for f in &r.features {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | `{}` | {} | {} | {} | {} | {} |",
                f.feature,
                f.prompts,
                num(f.router_quality),
                num(f.router_cost),
                f.best_tier,
                num(f.best_tier_quality),
                num(f.best_tier_cost),
                num(f.oracle_quality),
                f.aiq.map_or_else(|| "–".into(), num),
                f.permutation.as_ref().map_or_else(
                    || "–".into(),
                    |t| format!("{:+.4} ({:.2})", t.aiq_vs_permuted, t.p_value)
                )
            );
        }
        let within: Vec<&str> = r
            .features
            .iter()
            .filter(|f| f.within_chance().is_some())
            .map(|f| f.feature.as_str())
            .collect();
        if !within.is_empty() {
            let _ = writeln!(
                s,
                "\nWithin chance (permutation p ≥ {}) on: {}. On these prompts the router's \
                 choices score no better than its own predictions dealt to random prompts of the \
                 same feature: it has not shown that it learned which of them each tier passes \
                 (few prompts give the test little power).",
                null::ALPHA,
                within.join(", ")
            );
        }
        s.push('\n');
    }
    match &r.leakage {
        Some(l) => {
            let _ = writeln!(
                s,
                "## Leakage\n\n{} of {} eval prompts appear in the training data ({} exact, {} \
                 near-duplicate; {} training prompts fingerprinted).\n",
                l.total(),
                l.checked,
                l.exact,
                l.near_duplicate,
                l.training_prompts
            );
        }
        None => {
            let _ = writeln!(
                s,
                "## Leakage\n\nNot checked: no training fingerprints available.\n"
            );
        }
    }
    s.push_str("![cost vs quality](curve.svg)\n");
    s
}
