//! Importers on the real public data in `../shared/datasets` (relative to the workspace root),
//! with exact counts. Skipped, with a printed reason, when that folder is absent.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tierwise_core::import::{import_routellm, import_routerbench, RouteLlmOptions};
use tierwise_core::{read_logs, LogRow, LogWriter, OutcomeTable, ReadOptions, TierConfig};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn datasets() -> Option<PathBuf> {
    let dir = workspace().join("../shared/datasets");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (public data not on this machine)",
            dir.display()
        );
        None
    }
}

/// CSV files in `dir` whose name ends with `suffix`, sorted.
fn csvs(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Write rows to a temp JSONL and read them back through the validating reader.
fn round_trip(rows: &[LogRow]) -> Vec<LogRow> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.jsonl");
    let mut w = LogWriter::create(&path).unwrap();
    for r in rows {
        w.write(r).unwrap();
    }
    w.finish().unwrap();
    let set = read_logs(&[&path], ReadOptions::default()).unwrap();
    assert_eq!(set.report.kept, rows.len());
    set.rows
}

#[test]
fn routerbench_train_split() {
    let Some(data) = datasets() else { return };
    let files = csvs(&data.join("routerbench"), "_train.csv");
    assert_eq!(files.len(), 3);
    let mut rows = Vec::new();
    let report = import_routerbench(&files, &mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(report.records, 1039 + 299 + 887);
    assert_eq!(report.rows, 24_383);
    assert_eq!(report.missing_outcomes, 92);
    assert_eq!(report.prompts, 2_225);
    assert_eq!(report.per_model.len(), 11);
    assert_eq!(report.per_model["gpt-3.5-turbo-1106"], 2_213);
    let features: BTreeMap<&str, usize> = report
        .per_feature
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        features,
        BTreeMap::from([
            ("arc-challenge", 11_337),
            ("mbpp", 3_289),
            ("winogrande", 9_757)
        ])
    );
    assert!(rows
        .iter()
        .all(|r| r.cost_usd.is_some() && r.response.is_some()));

    // Through the validating reader (ids consistent with texts) into the outcome table.
    let rows = round_trip(&rows);
    let config =
        TierConfig::from_file(workspace().join("datasets/routerbench/tiers.toml")).unwrap();
    let table = OutcomeTable::build(&rows, &config);
    assert_eq!(table.len(), 2_225);
    assert_eq!(table.counts.unmapped_rows(), 0);
    let observed: usize = table.counts.observed_per_tier.iter().sum();
    assert_eq!(observed, 24_383, "no repeats: one cell per row");
    // The example config lists tiers cheapest first by measured mean cost.
    let costs: Vec<f64> = table.tier_summary().iter().map(|s| s.1.unwrap()).collect();
    assert!(costs.windows(2).all(|w| w[0] <= w[1]), "{costs:?}");
}

#[test]
fn routellm_mmlu_and_gsm8k() {
    let Some(data) = datasets() else { return };
    let mmlu = csvs(&data.join("routellm/mmlu"), ".csv");
    assert_eq!(mmlu.len(), 40);
    let mut rows = Vec::new();
    let report = import_routellm(&mmlu, &RouteLlmOptions::default(), &mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(report.records, 10_879);
    assert_eq!(report.rows, 21_758);
    assert_eq!(report.missing_outcomes, 0);
    assert_eq!(
        report.prompts, 10_853,
        "26 questions appear twice and share an id"
    );
    assert_eq!(report.per_feature.len(), 40);
    assert_eq!(report.per_feature["mmlu/anatomy"], 270);
    assert!(rows.iter().all(|r| r.cost_usd.is_none()));
    let table = OutcomeTable::build(&round_trip(&rows), &TierConfig::per_model(&rows).unwrap());
    assert_eq!(table.len(), 10_853);

    let config_path = workspace().join("datasets/routellm/tiers.toml");
    let config = TierConfig::from_file(&config_path).unwrap();
    let opts = RouteLlmOptions {
        tiers: Some((config.clone(), config_path.display().to_string())),
        ..RouteLlmOptions::default()
    };
    let mut gsm = Vec::new();
    let gsm_file = data.join("routellm/gsm8k_responses.csv");
    let report = import_routellm(&[gsm_file], &opts, &mut |r| {
        gsm.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        (report.records, report.rows, report.prompts),
        (915, 1_830, 915)
    );
    assert_eq!(report.per_feature["gsm8k"], 1_830);
    assert!(gsm
        .iter()
        .all(|r| r.cost_usd.is_some() && r.response.is_some()));
    let table = OutcomeTable::build(&round_trip(&gsm), &config);
    let summary = table.tier_summary();
    assert_eq!((summary[0].2, summary[1].2), (915, 915));
    assert!(
        summary[0].1.unwrap() * 10.0 < summary[1].1.unwrap(),
        "GPT-4 costs far more"
    );
}
