//! The counts behind the dense text features: characters, digits, upper case, lines, words,
//! code fences. ASCII text (the common case) is counted by bytes with SIMD-friendly loops (an
//! AVX2 build where the CPU has it).
use crate::ascii::is_ws;
use crate::simd::multiversion;

/// What the dense features count in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
            return of_ascii(text.as_bytes());
        }
        Self::of_chars(text)
    }

    /// [`TextCounts::of`] char by char (any text).
    fn of_chars(text: &str) -> TextCounts {
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
}

multiversion! {
    /// [`TextCounts::of`] for ASCII text: branch-free byte tests on 32 lanes at a time, with
    /// a byte counter per lane (`is_uppercase` on ASCII is `A-Z`).
    fn of_ascii(b: &[u8]) -> TextCounts = of_ascii_body
}

#[inline(always)]
fn of_ascii_body(b: &[u8]) -> TextCounts {
    const L: usize = 32;
    // A word starts at every non-space byte that follows a space or the start: byte k
    // against byte k - 1, with a space before the first.
    let starts = |p: u8, c: u8| (is_ws(p) & !is_ws(c)) as u8;
    let mut words = b.first().is_some_and(|&c| !is_ws(c)) as usize;
    let (mut digits, mut upper, mut lines) = (0usize, 0usize, 1usize);
    let mut backticks = false;
    let (prev, next) = (b, b.get(1..).unwrap_or_default());
    // At most 255 lane steps per round, so no lane counter overflows.
    for (p_round, n_round) in prev.chunks(255 * L).zip(next.chunks(255 * L)) {
        let mut acc = [[0u8; L]; 5];
        let (pc, nc) = (p_round.chunks_exact(L), n_round.chunks_exact(L));
        for (p, n) in pc.zip(nc) {
            let (p, n): (&[u8; L], &[u8; L]) = (p.try_into().unwrap(), n.try_into().unwrap());
            for k in 0..L {
                let c = p[k];
                acc[0][k] += (c.wrapping_sub(b'0') < 10) as u8;
                acc[1][k] += (c.wrapping_sub(b'A') < 26) as u8;
                acc[2][k] += (c == b'\n') as u8;
                acc[3][k] += starts(c, n[k]);
                acc[4][k] |= (c == b'`') as u8;
            }
        }
        let sum = |a: &[u8; L]| a.iter().map(|&x| x as usize).sum::<usize>();
        digits += sum(&acc[0]);
        upper += sum(&acc[1]);
        lines += sum(&acc[2]);
        words += sum(&acc[3]);
        backticks |= sum(&acc[4]) > 0;
    }
    // Bytes after the last whole lane step (the last byte has no next one).
    let done = b.len().saturating_sub(1) / L * L;
    for k in done..b.len() {
        let c = b[k];
        digits += (c.wrapping_sub(b'0') < 10) as usize;
        upper += (c.wrapping_sub(b'A') < 26) as usize;
        lines += (c == b'\n') as usize;
        backticks |= c == b'`';
        if let Some(&n) = b.get(k + 1) {
            words += starts(c, n) as usize;
        }
    }
    // Non-overlapping "```" matches: a run of k backticks holds k / 3.
    let fences = if backticks {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_match_char_counts_in_every_build() {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let alphabet = b"aZ09 \t\n\r\x0b\x0c`,.x`Q\x01";
        for len in (0..300).chain([4095, 8160, 8161, 8200]) {
            let t: String = (0..len)
                .map(|_| alphabet[next() % alphabet.len()] as char)
                .collect();
            let want = TextCounts::of_chars(&t);
            assert_eq!(of_ascii(t.as_bytes()), want, "{t:?}");
            assert_eq!(of_ascii_body(t.as_bytes()), want, "{t:?}");
        }
    }
}
