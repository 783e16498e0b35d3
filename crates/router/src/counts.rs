//! The counts behind the dense text features: characters, digits, upper case, lines, words,
//! code fences. ASCII text (the common case) is counted by bytes with SIMD-friendly loops.

/// What the dense features count in a text.
pub(crate) struct TextCounts {
    /// Characters.
    pub(crate) chars: usize,
    /// ASCII digits.
    pub(crate) digits: usize,
    /// Upper-case characters.
    pub(crate) upper: usize,
    /// Lines (newlines + 1).
    pub(crate) lines: usize,
    /// Non-ASCII characters.
    pub(crate) non_ascii: usize,
    /// White-space separated words.
    pub(crate) words: usize,
    /// Non-overlapping "```" matches.
    pub(crate) fences: usize,
}

impl TextCounts {
    /// Count `text`: by bytes when it is ASCII (the same counts, faster), else by chars.
    pub(crate) fn of(text: &str) -> TextCounts {
        if text.is_ascii() {
            return Self::of_ascii(text.as_bytes());
        }
        let (mut chars, mut digits, mut upper, mut lines, mut non_ascii, mut words) =
            (0usize, 0usize, 0usize, 1usize, 0usize, 0usize);
        let mut in_word = false;
        for c in text.chars() {
            chars += 1;
            digits += c.is_ascii_digit() as usize;
            upper += c.is_uppercase() as usize;
            lines += (c == '\n') as usize;
            non_ascii += (!c.is_ascii()) as usize;
            let ws = c.is_whitespace();
            words += (!ws && !in_word) as usize;
            in_word = !ws;
        }
        let fences = text.matches("```").count();
        TextCounts {
            chars,
            digits,
            upper,
            lines,
            non_ascii,
            words,
            fences,
        }
    }

    /// [`TextCounts::of`] for ASCII text: branch-free byte tests (`char::is_whitespace` on
    /// ASCII is `\t \n \x0b \x0c \r ' '`; `is_uppercase` is `A-Z`).
    fn of_ascii(b: &[u8]) -> TextCounts {
        let ws = |c: u8| c == b' ' || c.wrapping_sub(b'\t') < 5;
        // Per-chunk byte counters (≤ 255 each) let the loops run on SIMD lanes.
        let (mut digits, mut upper, mut lines) = (0usize, 0usize, 1usize);
        for chunk in b.chunks(255) {
            let (mut d, mut u, mut l) = (0u8, 0u8, 0u8);
            for &c in chunk {
                d += (c.wrapping_sub(b'0') < 10) as u8;
                u += (c.wrapping_sub(b'A') < 26) as u8;
                l += (c == b'\n') as u8;
            }
            digits += d as usize;
            upper += u as usize;
            lines += l as usize;
        }
        // A word starts at every non-space byte that follows a space or the start.
        let mut words = b.first().is_some_and(|&c| !ws(c)) as usize;
        let (prev, next) = (
            &b[..b.len().saturating_sub(1)],
            b.get(1..).unwrap_or_default(),
        );
        for (p, n) in prev.chunks(255).zip(next.chunks(255)) {
            let mut w = 0u8;
            for (&p, &n) in p.iter().zip(n) {
                w += (ws(p) & !ws(n)) as u8;
            }
            words += w as usize;
        }
        // Non-overlapping "```" matches: a run of k backticks holds k / 3.
        let fences = if b.contains(&b'`') {
            b.split(|&c| c != b'`').map(|run| run.len() / 3).sum()
        } else {
            0
        };
        TextCounts {
            chars: b.len(),
            digits,
            upper,
            lines,
            non_ascii: 0,
            words,
            fences,
        }
    }
}
