//! `Router::decide` throughput by prompt length (single thread), and the share of it spent in
//! tokenisation: the ASCII fast path vs `tokenizers`' encode on the same text.
//! Needs a trained model: `models/demo` (or the folder in `TIERWISE_BENCH_MODEL`).
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tierwise_router::{Prompt, Router};

const WORDS: &str = "The quarterly report shows that revenue grew by 12 percent, driven by strong \
demand in Europe; however, margins narrowed because shipping costs (fuel, insurance) rose. \
Please summarise the key risks, list three actions, and write a short Python function \
def margin(rev, cost): return (rev - cost) / rev to check the numbers. ";

fn text(chars: usize) -> String {
    WORDS.chars().cycle().take(chars).collect()
}

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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
