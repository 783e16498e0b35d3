//! Scale: the full eval (λ sweep, every metric, 1,000 bootstrap resamples) of 100,000 prompts ×
//! 11 tiers, and the permutation test a report adds (99 permuted copies, `null::test`), against
//! the point estimate alone (no bootstrap) as the in-run baseline.
//! Run: `cargo bench -p tierwise-eval --bench eval_scale`.
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tierwise_eval::{evaluate, BootstrapOptions, EvalTable, Evaluator, Predictions};

const N: usize = 100_000;
const T: usize = 11;

/// A synthetic table (fixed seed): tier t costs about 1e-4 · 1.6^t and passes a prompt of
/// difficulty d ∈ [0, 1) with probability rising in t − 10·d; the router's p is a noisy guess.
fn table() -> (EvalTable, Predictions) {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let (mut q, mut c, mut p, mut chosen) = (
        Vec::with_capacity(N * T),
        Vec::with_capacity(N * T),
        Vec::with_capacity(N * T),
        Vec::with_capacity(N),
    );
    for _ in 0..N {
        let d: f64 = rng.random();
        let mut best = T - 1;
        for t in 0..T {
            let logit = t as f64 - 10.0 * d;
            let pass = 1.0 / (1.0 + (-logit).exp());
            q.push(if rng.random_bool(pass) { 1.0 } else { 0.0 });
            c.push(1e-4 * 1.6f64.powi(t as i32) * rng.random_range(0.5..1.5));
            let guess = (pass + rng.random_range(-0.2..0.2)).clamp(0.0, 1.0) as f32;
            p.push(guess);
            if guess >= 0.7 && best == T - 1 {
                best = t;
            }
        }
        chosen.push(best);
    }
    let names: Vec<String> = (0..T).map(|t| format!("t{t}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let cost = c.clone();
    (
        EvalTable::from_parts(&names, q, c).unwrap(),
        Predictions {
            p,
            cost,
            chosen,
            choosable: vec![],
        },
    )
}

fn bench(cr: &mut Criterion) {
    let (t, p) = table();
    let mut g = cr.benchmark_group("eval_100k_x_11");
    g.sample_size(10);
    g.bench_function("point_estimate_only", |b| {
        b.iter(|| Evaluator::new(&t, &p).sample(None))
    });
    g.bench_function("with_1000_bootstrap_resamples", |b| {
        b.iter(|| {
            evaluate(
                &t,
                &p,
                BootstrapOptions {
                    resamples: 1000,
                    seed: 1,
                },
            )
            .unwrap()
        })
    });
    g.bench_function("permutation_test_99", |b| {
        b.iter(|| tierwise_eval::null::test(&t, &p, tierwise_eval::null::PERMUTATIONS, 1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
