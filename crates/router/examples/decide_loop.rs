//! Decide the bench prompt (`benches/bench_text.rs`) many times, for profilers and instruction
//! counts: e.g. `valgrind --tool=cachegrind target/release/examples/decide_loop models/demo 2000
//! 500`, again with 2500, and the difference over 2000 is the cost of one decide.
//! Usage: `decide_loop [MODEL_DIR] [CHARS] [ITERS] [varied]`; `varied` cycles through 64
//! windows of the demo's held-out prompts instead of one prompt.
use tierwise_router::{Prompt, Router};

#[path = "../benches/bench_text.rs"]
mod bench_text;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).cloned().unwrap_or("models/demo".into());
    let chars: usize = args.get(2).map_or(2000, |a| a.parse().unwrap());
    let iters: usize = args.get(3).map_or(1000, |a| a.parse().unwrap());
    let router = Router::load(&dir).expect("a model");
    let prompts: Vec<Prompt> = if args.get(4).is_some_and(|a| a == "varied") {
        bench_text::varied(chars, 64)
            .into_iter()
            .map(Prompt::text)
            .collect()
    } else {
        vec![Prompt::text(bench_text::text(chars))]
    };
    let mut s = 0;
    for i in 0..iters {
        let p = &prompts[i % prompts.len()];
        s += router.decide(std::hint::black_box(p)).tier_index;
    }
    println!("{s}");
}
