//! The bench prompt, shared by `benches/decide.rs` and `examples/decide_loop.rs`.

/// One paragraph of mixed prose, numbers, punctuation and code, cycled to any length.
pub const WORDS: &str = "The quarterly report shows that revenue grew by 12 percent, driven by \
strong demand in Europe; however, margins narrowed because shipping costs (fuel, insurance) rose. \
Please summarise the key risks, list three actions, and write a short Python function \
def margin(rev, cost): return (rev - cost) / rev to check the numbers. ";

/// The first `chars` characters of [`WORDS`] repeated.
pub fn text(chars: usize) -> String {
    WORDS.chars().cycle().take(chars).collect()
}
