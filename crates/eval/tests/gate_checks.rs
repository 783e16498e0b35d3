//! Gate checks on hand-made reports: strict interval ends, undefined metrics, regression against
//! a baseline, and every way a gate file or report can be unusable.
use std::collections::BTreeMap;

use tierwise_eval::gate::{self, Gate, Kind};
use tierwise_eval::{Error, Estimate, Report};

fn est(value: f64, lo: f64, hi: f64, higher: bool) -> Estimate {
    Estimate {
        value: Some(value),
        lo: Some(lo),
        hi: Some(hi),
        higher_is_better: higher,
    }
}

/// A report JSON with the given metrics, the rest minimal.
fn report(metrics: BTreeMap<String, Estimate>) -> Report {
    let json = serde_json::json!({
        "report_version": 1, "tierwise_version": "0.1.0", "context": {"logs": ["x.jsonl"]},
        "tiers": ["a", "b"], "best_tier": "b",
        "prompts": {"in_logs": 10, "used": 10, "skipped_missing_score": 0,
                    "skipped_missing_cost": 0, "skipped_no_decision": 0,
                    "missing_cells_per_tier": {}},
        "resamples": 1000, "seed": 0, "metrics": metrics, "tier_table": [],
        "no_tier_passes_share": 0.0,
        "operating_point": {"realised_quality": 0.9, "realised_cost": 1.0},
        "features": [], "warnings": [],
        "curves": {"cost_scale": 1.0, "router": [], "router_hull": [], "zero_router_hull": [],
                   "tiers": [], "oracle": [1.0, 1.0]}
    });
    serde_json::from_value(json).unwrap()
}

fn base_metrics() -> BTreeMap<String, Estimate> {
    BTreeMap::from([
        ("quality_vs_best".into(), est(0.97, 0.955, 0.985, true)),
        ("cost_vs_best".into(), est(0.5, 0.45, 0.55, false)),
        ("aiq".into(), est(0.72, 0.70, 0.74, true)),
        (
            "cost_at_best".into(),
            Estimate {
                value: None,
                lo: None,
                hi: None,
                higher_is_better: false,
            },
        ),
    ])
}

#[test]
fn strict_ends_decide() {
    let r = report(base_metrics());
    // Point 0.97 ≥ 0.96 but the lower end 0.955 is not: FAIL. Cost: upper end 0.55 ≤ 0.6: PASS.
    let g = Gate::from_toml("min_quality_vs_best = 0.96\nmax_cost_vs_best = 0.6\n", "g").unwrap();
    let checks = g.check(&r, "r", None).unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!((checks[0].used, checks[0].pass), (Some(0.955), false));
    assert_eq!((checks[1].used, checks[1].pass), (Some(0.55), true));
    let text = gate::render(&checks);
    assert!(
        text.contains("FAIL") && text.contains("gate: FAIL (1 of 2 checks failed)"),
        "{text}"
    );
    // Point 0.5 ≤ 0.52 but the upper end 0.55 is not.
    let g = Gate::from_toml("max_cost_vs_best = 0.52\nmin_aiq = 0.70", "g").unwrap();
    let checks = g.check(&r, "r", None).unwrap();
    assert!(
        !checks[0].pass && checks[1].pass,
        "lower end 0.70 ≥ 0.70 holds"
    );
    // An undefined metric fails its check.
    let g = Gate::from_toml("[max]\ncost_at_best = 0.9", "g").unwrap();
    let checks = g.check(&r, "r", None).unwrap();
    assert_eq!((checks[0].used, checks[0].pass), (None, false));
}

#[test]
fn regression_against_a_baseline() {
    let r = report(base_metrics());
    let mut m = base_metrics();
    m.insert("aiq".into(), est(0.75, 0.73, 0.77, true));
    let base = report(m);
    let g = Gate::from_toml(
        "max_regression = 0.02\nregression_metrics = [\"aiq\", \"cost_vs_best\"]",
        "g",
    )
    .unwrap();
    let checks = g.check(&r, "r", Some((&base, "b"))).unwrap();
    // AIQ: baseline 0.75 − current lower end 0.70 = 0.05 > 0.02: FAIL (point: 0.03 worse).
    assert_eq!(checks[0].kind, Kind::Regression);
    assert!((checks[0].used.unwrap() - 0.05).abs() < 1e-12 && !checks[0].pass);
    assert!((checks[0].value.unwrap() - 0.03).abs() < 1e-12);
    // Cost (lower is better): current upper end 0.55 − baseline 0.5 = 0.05 > 0.02: FAIL.
    assert!((checks[1].used.unwrap() - 0.05).abs() < 1e-12 && !checks[1].pass);
    let g = Gate::from_toml("max_regression = 0.06", "g").unwrap();
    let checks = g.check(&r, "r", Some((&base, "b"))).unwrap();
    assert_eq!(
        checks.len(),
        3,
        "default: quality_vs_best, cost_vs_best, aiq"
    );
    assert!(checks.iter().all(|c| c.pass));
    // No baseline: error, not a pass.
    assert!(matches!(g.check(&r, "r", None), Err(Error::Gate { .. })));
}

#[test]
fn fail_on_names_report_warnings_that_fail_the_gate() {
    let mut r = report(base_metrics());
    // `fail_on` alone is a gate; a clean report passes it.
    let g = Gate::from_toml("fail_on = [\"leakage\", \"drift\"]", "g").unwrap();
    let checks = g.check(&r, "r", None).unwrap();
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|c| c.pass && c.kind == Kind::Warning));
    r.warnings = vec![
        "DRIFT: at λ = 0.05 the router's mean cost here is …".into(),
        "3 of 10 prompts left out".into(),
    ];
    let checks = g.check(&r, "r", None).unwrap();
    let by = |m: &str| checks.iter().find(|c| c.metric == m).unwrap();
    assert!(by("leakage").pass);
    assert_eq!((by("drift").value, by("drift").pass), (Some(1.0), false));
    let text = gate::render(&checks);
    assert!(
        text.contains("drift warnings ≤") && text.contains("gate: FAIL (1 of 2 checks failed)"),
        "{text}"
    );
    // Warnings the gate does not name do not fail it.
    let g = Gate::from_toml("fail_on = [\"leakage\"]", "g").unwrap();
    assert!(g.check(&r, "r", None).unwrap().iter().all(|c| c.pass));
}

#[test]
fn a_report_from_too_few_resamples_is_an_error() {
    let g = Gate::from_toml("min_aiq = 0.7", "g").unwrap();
    let mut r = report(base_metrics());
    r.resamples = 1;
    let e = g.check(&r, "r.json", None).unwrap_err().to_string();
    assert!(
        e.contains("r.json") && e.contains("1 bootstrap resamples") && e.contains("at least 100"),
        "{e}"
    );
    // The baseline too.
    let g = Gate::from_toml("max_regression = 0.1", "g").unwrap();
    let e = g
        .check(&report(base_metrics()), "r.json", Some((&r, "b.json")))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("b.json: "), "{e}");
}

#[test]
fn unusable_gates_and_reports_are_errors() {
    let bad = [
        ("min_quality = 0.9\n", "unknown field"),
        ("min_aiq = \"high\"\n", "invalid type"),
        ("min_aiq = 0.7\nmin_aiq = 0.8\n", "duplicate"),
        ("min_aiq = nan\n", "not a number"),
        ("", "no checks"),
        ("regression_metrics = [\"aiq\"]\n", "needs `max_regression`"),
        ("max_regression = -1\n", "must be ≥ 0"),
        ("[min]\naiq = 0.1\n[nope]\n", "unknown field"),
        (
            "fail_on = [\"drift\", \"typo\"]\n",
            "unknown warning `typo`",
        ),
    ];
    for (text, why) in bad {
        let e = Gate::from_toml(text, "evals/gate.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(why) && e.contains("evals/gate.toml"),
            "{text:?}: {e}"
        );
    }
    let r = report(base_metrics());
    // APGR is not in a report of more than two tiers: an error naming the report.
    let g = Gate::from_toml("min_apgr = 0.5", "g").unwrap();
    let e = g
        .check(&r, "reports/x/report.json", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reports/x/report.json") && e.contains("`apgr`"),
        "{e}"
    );
    // A baseline lacking a metric is an error too.
    let base = report(BTreeMap::new());
    let g = Gate::from_toml("max_regression = 0.1\nregression_metrics = [\"aiq\"]", "g").unwrap();
    assert!(g
        .check(&r, "r", Some((&base, "b.json")))
        .unwrap_err()
        .to_string()
        .contains("b.json"));
}
