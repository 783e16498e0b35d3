//! `Router::decide_into` allocates nothing once its `Decision` has grown (ASCII prompts, the
//! tokenizer's fast path): a counting global allocator watches a few hundred decisions.
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use tierwise_router::{Decision, Prompt, Router};

mod common;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decide_into_allocates_nothing_on_ascii_prompts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo");
    let router = Router::load(dir).expect("models/demo loads");
    let mut texts = common::edge_cases();
    texts.extend(common::random_texts(200, 3));
    let prompts: Vec<Prompt> = texts
        .into_iter()
        .filter(|t| t.is_ascii())
        .map(Prompt::text)
        .collect();
    let mut d = Decision::default();
    for p in &prompts {
        router.decide_into(p, &mut d); // grows the buffers
    }
    let before = ALLOCS.load(Ordering::Relaxed);
    for p in &prompts {
        router.decide_into(p, &mut d);
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(allocs, 0, "allocations in {} decisions", prompts.len());
    // The reused buffers hold what a fresh decision holds.
    for p in &prompts {
        router.decide_into(p, &mut d);
        assert_eq!(d, router.decide(p));
    }
}
