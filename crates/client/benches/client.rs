//! Added latency of the client layer per call against a loopback provider, compared in the same
//! run with a bare reqwest call to the same provider, and the cost of an exact-cache hit.
//!
//! `cargo bench -p tierwise-client --bench client`; medians are in
//! `target/criterion/<group>/<name>/new/estimates.json` (`median.point_estimate`, ns).
#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{tier, TestProvider, Wire, SECRET};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use tierwise_client::{Budget, ChatRequest, Client, JsonlSink};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let p = rt.block_on(TestProvider::start(Wire::OpenAi, vec![]));
    let tiers = tierwise_core::TierConfig {
        tiers: vec![tier("t", "gpt-4o-mini", &p, 0.15, 0.6)],
    };
    let base = |tiers: &tierwise_core::TierConfig| {
        Client::builder()
            .tiers(tiers.clone())
            .api_key("TIERWISE_TEST_KEY", SECRET)
    };
    let bare_client = base(&tiers).no_cache().build().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let full_client = base(&tiers)
        .no_cache()
        .budget(Budget::daily_usd("acme", 1e9))
        .log_sink(JsonlSink::daily(logs.path()))
        .build()
        .unwrap();
    let cached_client = base(&tiers).build().unwrap();
    let req = ChatRequest::user("What is the capital of France? Answer in one word.")
        .system("You are a concise assistant.")
        .customer("acme")
        .max_tokens(64);

    // The baseline: what a service would do without tierwise.
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let url = format!("{}/chat/completions", p.base_url());
    let body = json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "You are a concise assistant."},
                     {"role": "user", "content": "What is the capital of France? Answer in one word."}],
        "max_tokens": 64
    });
    let bare = || async {
        let v: Value = http
            .post(&url)
            .bearer_auth(SECRET)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .len()
    };

    let mut g = c.benchmark_group("loopback_call");
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("bare_reqwest", |b| {
        b.iter(|| black_box(rt.block_on(bare())))
    });
    g.bench_function("client_minimal", |b| {
        b.iter(|| black_box(rt.block_on(bare_client.chat(req.clone())).unwrap()))
    });
    g.bench_function("client_budget_and_jsonl_log", |b| {
        b.iter(|| black_box(rt.block_on(full_client.chat(req.clone())).unwrap()))
    });
    // Interleaved: bare and client calls alternate within each sample, which reports the
    // sample's total client time minus its total bare time (a mean difference per call), so
    // load from other processes hits both sides alike. Clamped at 1 ns per sample (criterion
    // rejects zero), not per call.
    g.bench_function("client_minus_bare_interleaved", |b| {
        b.iter_custom(|iters| {
            let (mut bare_t, mut client_t) = (Duration::ZERO, Duration::ZERO);
            for _ in 0..iters {
                let t0 = std::time::Instant::now();
                black_box(rt.block_on(bare()));
                let t1 = std::time::Instant::now();
                black_box(rt.block_on(bare_client.chat(req.clone())).unwrap());
                client_t += t1.elapsed();
                bare_t += t1 - t0;
            }
            client_t.saturating_sub(bare_t).max(Duration::from_nanos(1))
        })
    });
    g.finish();

    rt.block_on(cached_client.chat(req.clone())).unwrap();
    let mut g = c.benchmark_group("exact_cache");
    g.bench_function("hit", |b| {
        b.iter(|| {
            let r = rt.block_on(cached_client.chat(req.clone())).unwrap();
            assert_eq!(r.cache, tierwise_client::CacheOutcome::Exact);
            black_box(r)
        })
    });
    g.bench_function("request_clone_only", |b| b.iter(|| black_box(req.clone())));
    g.bench_function("block_on_only", |b| {
        b.iter(|| black_box(rt.block_on(async { 1 })))
    });
    let stop: Vec<String> = Vec::new();
    g.bench_function("key_only", |b| {
        b.iter(|| {
            black_box(tierwise_client::cache::key(
                &tierwise_client::cache::KeyParts {
                    tenant: "acme",
                    model: "gpt-4o-mini",
                    messages: &req.messages,
                    tools: &req.tools,
                    max_tokens: 64,
                    stop: &stop,
                    temperature: None,
                },
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
