//! The log lines: they parse with core's reader, build an outcome table (prompts × tiers with
//! scores), carry cache and retry fields, and never contain an API key.
mod common;

use std::path::{Path, PathBuf};

use common::{builder, tier, Step, TestProvider, Wire, SECRET};
use tierwise_client::{ChatRequest, JsonlSink};
use tierwise_core::{read_logs, OutcomeTable, ReadOptions, TierConfig};

/// Calls both tiers on `n` prompts with a grader (the large tier "passes" every prompt, the
/// small tier only the even ones) and writes the log under `dir`. Returns the log file and the
/// tier config: the input `tierwise train` needs.
async fn collect(dir: &Path, n: usize) -> (PathBuf, TierConfig) {
    let small =
        TestProvider::start(Wire::OpenAi, vec![Step::Status(503, vec![], "busy".into())]).await;
    let large = TestProvider::start(Wire::Anthropic, vec![]).await;
    let tiers = vec![
        tier("small", "gpt-small", &small, 0.15, 0.6),
        tier("large", "claude-large", &large, 3.0, 15.0),
    ];
    let config = TierConfig {
        tiers: tiers.clone(),
    };
    let client = builder(tiers)
        .log_sink(JsonlSink::daily(dir))
        .build()
        .unwrap();
    let mut reqs = Vec::new();
    for i in 0..n {
        for t in ["small", "large"] {
            let pass_small = i % 2 == 0;
            reqs.push(
                ChatRequest::user(format!("question number {i}"))
                    .system("You answer support questions.")
                    .feature("support")
                    .customer("acme")
                    .tier(t)
                    .grader(move |_text| Some(if t == "large" || pass_small { 1.0 } else { 0.0 })),
            );
        }
    }
    for r in client.chat_many(reqs, 8).await {
        let r = r.unwrap();
        assert_eq!(r.log_error, None);
    }
    // An exact-cache hit and a failed call are logged too.
    let again = ChatRequest::user("question number 0")
        .system("You answer support questions.")
        .customer("acme")
        .tier("large");
    assert_eq!(client.chat(again).await.unwrap().cost_usd, 0.0);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 1, "{files:?}");
    (files.remove(0), config)
}

#[tokio::test]
async fn log_lines_build_an_outcome_table() {
    let dir = tempfile::tempdir().unwrap();
    let (file, config) = collect(dir.path(), 10).await;
    let set = read_logs(&[&file], ReadOptions::default()).unwrap();
    assert_eq!(set.report.rejected_total(), 0);
    assert_eq!(set.rows.len(), 21);
    let table = OutcomeTable::build(&set.rows, &config);
    assert_eq!(table.len(), 10);
    assert_eq!(table.counts.observed_per_tier, [10, 10]);
    assert_eq!(table.counts.unmapped_rows(), 0);
    for p in 0..10 {
        let small_pass = table.passed(p, 0).unwrap();
        assert_eq!(
            small_pass,
            table.prompts[p].text.ends_with(['0', '2', '4', '6', '8'])
        );
        assert_eq!(table.passed(p, 1), Some(true));
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(SECRET));
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The small tier's first call needed a retry (503, then success).
    assert_eq!(rows.iter().filter(|r| r["retries"] == 1).count(), 1);
    let hit = rows.last().unwrap();
    assert_eq!(
        (hit["cache"].as_str(), hit["cost_usd"].as_f64()),
        (Some("exact"), Some(0.0))
    );
    for r in &rows[..20] {
        assert_eq!(r["status"], "ok");
        assert_eq!(r["feature"], "support");
        assert!(r["input_tokens"].as_u64().unwrap() > 0 && r["latency_ms"].as_f64().is_some());
        assert!(r["cache_read_tokens"].is_u64() && r["tier"].is_string());
    }
}

#[tokio::test]
async fn failed_calls_are_logged_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let echo = format!("invalid x-api-key {SECRET}");
    let p = TestProvider::start(Wire::Anthropic, vec![Step::Status(401, vec![], echo)]).await;
    let client = builder(vec![tier("t", "claude", &p, 3.0, 15.0)])
        .log_sink(JsonlSink::daily(dir.path()))
        .build()
        .unwrap();
    let e = client
        .chat(ChatRequest::user("hi").customer("acme"))
        .await
        .unwrap_err();
    assert!(!e.to_string().contains(SECRET));
    assert!(!format!("{client:?}").contains(SECRET));
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    let row: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(row["status"], "error");
    assert_eq!(row["error"], "provider_rejected");
    assert_eq!(row["attempts"], 1);
    // Still a valid log line.
    read_logs(&[&file], ReadOptions::default()).unwrap();
}
