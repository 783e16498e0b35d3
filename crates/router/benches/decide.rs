//! `Router::decide` throughput by prompt length (single thread; `decide_into` reuses one
//! `Decision`, no allocation), and the share of it spent in
//! tokenisation: the ASCII fast path vs `tokenizers`' encode on the same text.
//! `decide_varied` routes 64 different prompts in turn (windows of the demo's held-out log text,
//! or of the log `TIERWISE_BENCH_PROMPTS` names),
//! so the tables see the spread of a real stream rather than one text kept hot in cache.
//! Needs a trained model: `models/demo` (or the folder in `TIERWISE_BENCH_MODEL`).
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tierwise_router::{Decision, Prompt, Router};

#[path = "bench_text.rs"]
mod bench_text;
use bench_text::{text, varied};

fn bench(c: &mut Criterion) {
    let dir = std::env::var("TIERWISE_BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/demo"));
    let router = match Router::load(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skipped: no model at {} ({e})", dir.display());
            return;
        }
    };
    let mut g = c.benchmark_group("decide");
    for chars in [200usize, 500, 2000, 8000] {
        let prompt = Prompt::text(text(chars));
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::new("decide", chars), &prompt, |b, p| {
            b.iter(|| router.decide(std::hint::black_box(p)))
        });
        let mut out = Decision::default();
        g.bench_with_input(BenchmarkId::new("decide_into", chars), &prompt, |b, p| {
            b.iter(|| {
                router.decide_into(std::hint::black_box(p), &mut out);
                out.tier_index
            })
        });
        let t = text(chars);
        let f = router.model().featuriser();
        g.bench_with_input(BenchmarkId::new("tokens_fast", chars), &t, |b, t| {
            b.iter(|| {
                let mut n = 0u32;
                f.token_ids(std::hint::black_box(t), |id| n = n.wrapping_add(id));
                n
            })
        });
        g.bench_with_input(BenchmarkId::new("tokens_hf_encode", chars), &t, |b, t| {
            b.iter(|| f.token_ids_slow(std::hint::black_box(t)))
        });
    }
    for chars in [500usize, 2000] {
        let prompts: Vec<Prompt> = varied(chars, 64).into_iter().map(Prompt::text).collect();
        if prompts.is_empty() {
            eprintln!("skipped decide_varied: no prompts (datasets/demo/heldout.jsonl or TIERWISE_BENCH_PROMPTS)");
            continue;
        }
        g.throughput(Throughput::Elements(prompts.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("decide_varied", chars),
            &prompts,
            |b, ps| {
                b.iter(|| {
                    ps.iter()
                        .map(|p| router.decide(std::hint::black_box(p)).tier_index)
                        .sum::<usize>()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
