//! The full loop: the client's log lines train a router (core reader → outcome table →
//! `tierwise_train::train`, what `tierwise train` runs), and the client then routes with it.
mod common;

use common::{builder, tier, TestProvider, Wire};
use tierwise_client::{ChatRequest, JsonlSink};
use tierwise_core::{read_logs, OutcomeTable, ReadOptions, TierConfig};
use tierwise_router::Router;
use tierwise_train::{train, TrainOptions};

const EASY: [&str; 6] = ["hello", "thanks", "weather", "lunch", "greeting", "holiday"];
const HARD: [&str; 6] = [
    "theorem",
    "integral",
    "proof",
    "eigenvalue",
    "lemma",
    "topology",
];

fn prompt(i: usize) -> (String, bool) {
    let hard = i % 2 == 1;
    let w = if hard { HARD } else { EASY };
    (
        format!(
            "Question {i}: tell me about the {} and the {}.",
            w[i % 6],
            w[(i / 6) % 6]
        ),
        hard,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_written_by_the_client_train_a_router_it_then_uses() {
    let small = TestProvider::start(Wire::OpenAi, vec![]).await;
    let large = TestProvider::start(Wire::Anthropic, vec![]).await;
    let tiers = vec![
        tier("small", "gpt-small", &small, 0.15, 0.6),
        tier("large", "claude-large", &large, 3.0, 15.0),
    ];
    let config = TierConfig {
        tiers: tiers.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let client = builder(tiers.clone())
        .log_sink(JsonlSink::daily(&logs))
        .build()
        .unwrap();
    // Collect outcomes: every prompt on both tiers; the small tier fails the hard prompts.
    let mut reqs = Vec::new();
    for i in 0..240 {
        let (text, hard) = prompt(i);
        for t in ["small", "large"] {
            let pass = t == "large" || !hard;
            reqs.push(
                ChatRequest::user(text.clone())
                    .tier(t)
                    .grader(move |_| Some(pass as u8 as f64)),
            );
        }
    }
    // One at a time, so the log's line order (and so training) is deterministic.
    assert!(client.chat_many(reqs, 1).await.iter().all(Result::is_ok));

    let files: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let set = read_logs(&files, ReadOptions::default()).unwrap();
    let table = OutcomeTable::build(&set.rows, &config);
    assert_eq!(table.counts.observed_per_tier, [240, 240]);
    let mut opts = TrainOptions {
        buckets: 1 << 12,
        vocab_size: 300,
        epochs: 30,
        ..TrainOptions::default()
    };
    opts.net.patience = 30;
    opts.net.lr = 0.01;
    let trained = train(&table, &config, set.rows.len(), vec![], &opts).unwrap();
    let artifact = dir.path().join("router");
    trained.write(&artifact).unwrap();

    // Serve: the client routes new prompts with the trained router.
    let router = Router::load(&artifact).unwrap();
    let client = builder(tiers).router(router).build().unwrap();
    // Quality first (Target::Quality(0.98)): hard prompts must reach the large tier; the savings
    // come from easy prompts the router dares to send to the small one.
    let (mut hard_large, mut easy_small) = (0, 0);
    for i in 1000..1040 {
        let (text, hard) = prompt(i);
        let r = client.chat(ChatRequest::user(text)).await.unwrap();
        hard_large += (hard && r.tier == "large") as usize;
        easy_small += (!hard && r.tier == "small") as usize;
    }
    eprintln!("new prompts: {hard_large}/20 hard on large, {easy_small}/20 easy on small");
    assert!(
        hard_large >= 19,
        "only {hard_large}/20 hard prompts reached the large tier"
    );
    assert!(
        easy_small >= 6,
        "only {easy_small}/20 easy prompts saved money on the small tier"
    );
}
