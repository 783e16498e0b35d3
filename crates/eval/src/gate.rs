//! The CI gate: thresholds from a TOML file checked against a report, each on the end of the
//! metric's 95% interval that makes the check strict (the lower end for minimums, the upper end
//! for maximums), so a small eval set cannot pass by luck.
//!
//! ```toml
//! min_quality_vs_best = 0.95   # router quality ≥ 95% of the best single tier's
//! max_cost_vs_best = 0.6       # at ≤ 60% of its cost
//! min_aiq = 0.7
//! min_apgr = 0.55              # two-tier reports only
//! max_regression = 0.02        # vs --baseline: no metric below gets worse by more than this
//! regression_metrics = ["quality_vs_best", "cost_vs_best", "aiq"]   # the default
//! fail_on = ["leakage", "drift", "chance"]   # fail when the report carries such a warning
//! [min]                        # any other metric of the report
//! quality_at_50pct_cost = 0.7
//! [max]
//! cost_at_best = 0.8
//! ```
//!
//! A malformed file, a gate without checks, or a report (or baseline) lacking a metric the gate
//! names is an error, never a pass. A metric the report holds but could not define (e.g.
//! `cost_at_best` when no router point reaches the best tier) fails its check.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;

use crate::bootstrap::MIN_RESAMPLES;
use crate::error::{Error, Result};
use crate::markdown::num;
use crate::report::Report;
use crate::{drift, leakage, null};

/// A parsed gate file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Minimum of `quality_vs_best`.
    pub min_quality_vs_best: Option<f64>,
    /// Maximum of `cost_vs_best`.
    pub max_cost_vs_best: Option<f64>,
    /// Minimum AIQ.
    pub min_aiq: Option<f64>,
    /// Minimum APGR (two tiers).
    pub min_apgr: Option<f64>,
    /// Largest allowed worsening of each `regression_metrics` against a baseline report.
    pub max_regression: Option<f64>,
    /// Metrics the regression check covers.
    pub regression_metrics: Option<Vec<String>>,
    /// Report warnings that fail the gate: `leakage` (eval prompts in the training data),
    /// `drift` (the router does worse than its validation predicted), `chance` (its AIQ is not
    /// clear of its own predictions dealt to random prompts, [`crate::null`]).
    #[serde(default)]
    pub fail_on: Vec<String>,
    /// Minimums of any other report metric.
    #[serde(default)]
    pub min: BTreeMap<String, f64>,
    /// Maximums of any other report metric.
    #[serde(default)]
    pub max: BTreeMap<String, f64>,
}

/// What a check compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// value ≥ threshold, on the interval's lower end.
    Min,
    /// value ≤ threshold, on the interval's upper end.
    Max,
    /// worsening vs the baseline ≤ threshold, on the interval end that makes it largest.
    Regression,
    /// the report carries no warning of this kind (`value`: how many it carries).
    Warning,
}

/// The warnings `fail_on` can name, with the prefix of their text in a report.
const WARNINGS: [(&str, &str); 3] = [
    ("leakage", leakage::PREFIX),
    ("drift", drift::PREFIX),
    ("chance", null::PREFIX),
];

/// One evaluated check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The metric.
    pub metric: String,
    /// The comparison.
    pub kind: Kind,
    /// The threshold.
    pub threshold: f64,
    /// The measured value (for a regression: how much worse than the baseline).
    pub value: Option<f64>,
    /// Its 95% interval.
    pub interval: (Option<f64>, Option<f64>),
    /// The interval end compared with the threshold (None: unbounded or undefined).
    pub used: Option<f64>,
    /// Whether the check holds.
    pub pass: bool,
}

impl Gate {
    /// Read and validate a gate file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Gate> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Gate::from_toml(&text, &path.display().to_string())
    }

    /// Parse and validate gate TOML; `file` names the source in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Gate> {
        let gate: Gate = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            Error::Gate {
                file: line.map_or(file.to_string(), |l| format!("{file}:{l}")),
                reason: e.message().to_string(),
            }
        })?;
        let bad = |reason: String| Error::Gate {
            file: file.to_string(),
            reason,
        };
        let thresholds = gate.thresholds();
        for (key, _, t) in &thresholds {
            if !t.is_finite() {
                return Err(bad(format!("key `{key}`: threshold {t} is not a number")));
            }
        }
        if let Some(t) = gate.max_regression {
            if !(t.is_finite() && t >= 0.0) {
                return Err(bad(format!("key `max_regression`: must be ≥ 0, got {t}")));
            }
        }
        if gate.regression_metrics.is_some() && gate.max_regression.is_none() {
            return Err(bad(
                "key `regression_metrics` needs `max_regression` as well".into(),
            ));
        }
        for w in &gate.fail_on {
            if !WARNINGS.iter().any(|(name, _)| name == w) {
                let known: Vec<&str> = WARNINGS.iter().map(|(n, _)| *n).collect();
                return Err(bad(format!(
                    "key `fail_on`: unknown warning `{w}` (known: {})",
                    known.join(", ")
                )));
            }
        }
        if thresholds.is_empty() && gate.max_regression.is_none() && gate.fail_on.is_empty() {
            return Err(bad("the gate has no checks".into()));
        }
        Ok(gate)
    }

    /// (key in the file, metric, threshold) of every minimum and maximum check.
    fn thresholds(&self) -> Vec<(String, Kind, f64)> {
        let mut v: Vec<(String, Kind, f64)> = Vec::new();
        let named = [
            ("quality_vs_best", Kind::Min, self.min_quality_vs_best),
            ("cost_vs_best", Kind::Max, self.max_cost_vs_best),
            ("aiq", Kind::Min, self.min_aiq),
            ("apgr", Kind::Min, self.min_apgr),
        ];
        for (m, k, t) in named {
            if let Some(t) = t {
                v.push((m.to_string(), k, t));
            }
        }
        v.extend(self.min.iter().map(|(m, &t)| (m.clone(), Kind::Min, t)));
        v.extend(self.max.iter().map(|(m, &t)| (m.clone(), Kind::Max, t)));
        v
    }

    /// Whether the gate has a regression check (and so needs a baseline).
    pub fn needs_baseline(&self) -> bool {
        self.max_regression.is_some()
    }

    /// Run every check. `report_file` and the baseline's file name the sources in errors.
    pub fn check(
        &self,
        report: &Report,
        report_file: &str,
        baseline: Option<(&Report, &str)>,
    ) -> Result<Vec<Check>> {
        let lookup = |r: &Report, file: &str, m: &str| {
            r.metrics.get(m).copied().ok_or_else(|| Error::Gate {
                file: file.to_string(),
                reason: format!(
                    "the report has no metric `{m}` (it has: {})",
                    r.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            })
        };
        for (r, file) in std::iter::once((report, report_file)).chain(baseline) {
            if r.resamples < MIN_RESAMPLES {
                return Err(Error::Gate {
                    file: file.to_string(),
                    reason: format!(
                        "its intervals come from {} bootstrap resamples; a gate needs at least \
                         {MIN_RESAMPLES} (rerun `tierwise eval` with --resamples {MIN_RESAMPLES} or more)",
                        r.resamples
                    ),
                });
            }
        }
        let mut out = Vec::new();
        for (m, kind, threshold) in self.thresholds() {
            let e = lookup(report, report_file, &m)?;
            let used = match kind {
                Kind::Min => e.value.and(e.lo),
                _ => e.value.and(e.hi),
            };
            let pass = used.is_some_and(|u| match kind {
                Kind::Min => u >= threshold,
                _ => u <= threshold,
            });
            out.push(Check {
                metric: m,
                kind,
                threshold,
                value: e.value,
                interval: (e.lo, e.hi),
                used,
                pass,
            });
        }
        for (name, prefix) in WARNINGS {
            if self.fail_on.iter().any(|w| w == name) {
                if name == "chance" && report.permutation.is_none() {
                    return Err(Error::Gate {
                        file: report_file.to_string(),
                        reason: "the gate fails on `chance` but the report has no permutation \
                                 test (it was evaluated with --permutations 0)"
                            .into(),
                    });
                }
                let n = report
                    .warnings
                    .iter()
                    .filter(|w| w.starts_with(prefix))
                    .count();
                out.push(Check {
                    metric: name.to_string(),
                    kind: Kind::Warning,
                    threshold: 0.0,
                    value: Some(n as f64),
                    interval: (None, None),
                    used: Some(n as f64),
                    pass: n == 0,
                });
            }
        }
        if let Some(threshold) = self.max_regression {
            let Some((base, base_file)) = baseline else {
                return Err(Error::Gate {
                    file: report_file.to_string(),
                    reason: "the gate sets `max_regression` but no baseline report was given"
                        .into(),
                });
            };
            let default = ["quality_vs_best", "cost_vs_best", "aiq"].map(String::from);
            for m in self.regression_metrics.as_deref().unwrap_or(&default) {
                let e = lookup(report, report_file, m)?;
                let b = lookup(base, base_file, m)?;
                let Some(bv) = b.value else {
                    return Err(Error::Gate {
                        file: base_file.to_string(),
                        reason: format!("metric `{m}` is undefined in the baseline"),
                    });
                };
                // Worsening = baseline − current for higher-is-better metrics, else the reverse.
                let worse = |x: f64| if e.higher_is_better { bv - x } else { x - bv };
                let (lo, hi) = if e.higher_is_better {
                    (e.hi.map(worse), e.lo.map(worse))
                } else {
                    (e.lo.map(worse), e.hi.map(worse))
                };
                let used = e.value.and(hi);
                out.push(Check {
                    metric: m.clone(),
                    kind: Kind::Regression,
                    threshold,
                    value: e.value.map(worse),
                    interval: (lo, hi),
                    used,
                    pass: used.is_some_and(|u| u <= threshold),
                });
            }
        }
        Ok(out)
    }
}

/// The checks as an aligned table for a terminal, ending with the verdict.
pub fn render(checks: &[Check]) -> String {
    let mut s = format!(
        "{:<34} {:>10} {:>10} {:>24} {:>10}  result\n",
        "check", "threshold", "measured", "95% interval", "compared"
    );
    let o = |x: Option<f64>| x.map_or_else(|| "–".into(), num);
    for c in checks {
        let name = match c.kind {
            Kind::Min => format!("{} ≥", c.metric),
            Kind::Max => format!("{} ≤", c.metric),
            Kind::Regression => format!("regression of {} ≤", c.metric),
            Kind::Warning => format!("{} warnings ≤", c.metric),
        };
        let iv = match c.kind {
            Kind::Warning => "–".to_string(),
            _ => format!(
                "[{}, {}]",
                c.interval.0.map_or_else(|| "−∞".into(), num),
                c.interval.1.map_or_else(|| "∞".into(), num)
            ),
        };
        let _ = writeln!(
            s,
            "{name:<34} {:>10} {:>10} {iv:>24} {:>10}  {}",
            num(c.threshold),
            o(c.value),
            o(c.used),
            if c.pass { "PASS" } else { "FAIL" }
        );
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    let _ = writeln!(
        s,
        "gate: {} ({} of {} checks failed)",
        if failed == 0 { "PASS" } else { "FAIL" },
        failed,
        checks.len()
    );
    s
}
