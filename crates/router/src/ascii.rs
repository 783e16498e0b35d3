//! ASCII helpers for the tokenizer fast path: BERT pre-tokenizer byte classes, and word scanning
//! and lower-casing eight bytes at a time (SWAR on a `u64`), byte classes as bit masks 64 bytes
//! at a time (SSE2 on x86-64).
//!
//! Everything here assumes ASCII input (every byte < 0x80), which the fast path checks first.

/// White space: dropped between words (`char::is_whitespace` on ASCII: `\t \n \x0b \x0c \r ' '`).
pub(crate) const WS: u8 = 0;
/// Punctuation (`is_ascii_punctuation`): a word of its own.
pub(crate) const PUNCT: u8 = 1;
/// Anything else: letters, digits, control characters; part of a word.
pub(crate) const WORD: u8 = 2;

/// The class of every byte (bytes ≥ 0x80 never reach the fast path; they read as [`WORD`]).
pub(crate) const CLASS: [u8; 256] = {
    let mut t = [WORD; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_whitespace() || c == 0x0b {
            t[b] = WS;
        } else if c.is_ascii_punctuation() {
            t[b] = PUNCT;
        }
        b += 1;
    }
    t
};

/// Every byte lower-cased and below 0x80 (`(b & 127).to_ascii_lowercase()` as one load).
pub(crate) const LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = ((b & 127) as u8).to_ascii_lowercase();
        b += 1;
    }
    t
};

#[inline(always)]
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

const HIGH: u64 = splat(0x80);

/// 0x80 in every byte of `v` that is ≥ `c` (1 ≤ `c` ≤ 0x80; every byte of `v` < 0x80, so the
/// additions never carry into the next byte).
#[inline(always)]
fn ge(v: u64, c: u8) -> u64 {
    v.wrapping_add(splat(0x80 - c)) & HIGH
}

/// 0x80 in every byte of `v` (eight ASCII bytes) that is white space or punctuation.
#[inline(always)]
fn breaks(v: u64) -> u64 {
    let ws = ge(v, 0x09) & !ge(v, 0x0e); // \t \n \x0b \x0c \r
    let space_to_slash = ge(v, 0x20) & !ge(v, 0x30); // ' ' and !"#$%&'()*+,-./
    let colon_to_at = ge(v, 0x3a) & !ge(v, 0x41); // :;<=>?@
    let bracket_to_tick = ge(v, 0x5b) & !ge(v, 0x61); // [\]^_`
    let brace_to_tilde = ge(v, 0x7b) & !ge(v, 0x7f); // {|}~
    ws | space_to_slash | colon_to_at | bracket_to_tick | brace_to_tilde
}

/// Whether ASCII `b` holds a control character other than `\t \n \r` (what
/// `BertNormalizer::clean_text` drops from ASCII text: Unicode category Cc), eight bytes at a time.
pub(crate) fn has_control(b: &[u8]) -> bool {
    let control = |v: u64| {
        let tab_lf = ge(v, 0x09) & !ge(v, 0x0b);
        let cr = ge(v, 0x0d) & !ge(v, 0x0e);
        (!ge(v, 0x20) & HIGH & !tab_lf & !cr) | ge(v, 0x7f)
    };
    let mut chunks = b.chunks_exact(8);
    let hit = chunks
        .by_ref()
        .any(|c| control(u64::from_le_bytes(c.try_into().expect("eight bytes"))) != 0);
    hit || {
        let mut last = [b' '; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        control(u64::from_le_bytes(last)) != 0
    }
}

/// Bytes `i..i + N` of `b`, padded with `pad` past its end.
#[inline(always)]
pub(crate) fn block<const N: usize>(b: &[u8], i: usize, pad: u8) -> [u8; N] {
    match b.get(i..i + N) {
        Some(s) => s.try_into().expect("N bytes"),
        None => {
            let mut out = [pad; N];
            let rest = &b[i.min(b.len())..];
            out[..rest.len()].copy_from_slice(rest);
            out
        }
    }
}

/// The word and punctuation bytes of a 64-byte block of ASCII text as bit masks (bit `k`:
/// byte `k`); white space is in neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Classes {
    /// [`WORD`] bytes.
    pub(crate) word: u64,
    /// [`PUNCT`] bytes.
    pub(crate) punct: u64,
}

/// The [`Classes`] of `block` (ASCII): 16 bytes per step with SSE2 on x86-64.
#[inline(always)]
pub(crate) fn classes64(block: &[u8; 64]) -> Classes {
    // SAFETY: SSE2 is part of every x86-64 CPU (the target's baseline).
    #[cfg(target_arch = "x86_64")]
    return unsafe { classes64_sse2(block) };
    #[cfg(not(target_arch = "x86_64"))]
    return classes64_table(block);
}

/// [`classes64`] by table lookups, byte by byte (other targets, and the reference in tests).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classes64_table(block: &[u8; 64]) -> Classes {
    let (mut word, mut punct) = (0u64, 0u64);
    for (k, &c) in block.iter().enumerate() {
        word |= ((CLASS[c as usize] == WORD) as u64) << k;
        punct |= ((CLASS[c as usize] == PUNCT) as u64) << k;
    }
    Classes { word, punct }
}

/// [`classes64`] with SSE2 (part of every x86-64 CPU): signed byte compares are exact on
/// ASCII, and a mask move takes one bit per byte.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn classes64_sse2(block: &[u8; 64]) -> Classes {
    use std::arch::x86_64::*;
    let (mut word, mut punct) = (0u64, 0u64);
    for (q, chunk) in block.chunks_exact(16).enumerate() {
        let (lo, hi) = chunk.split_at(8);
        let half = |h: &[u8]| i64::from_le_bytes(h.try_into().expect("8 bytes"));
        let v = _mm_set_epi64x(half(hi), half(lo));
        // Bytes in `lo..=hi`.
        let within = |lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let ws = _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)),
            within(0x09, 0x0d),
        );
        let p = _mm_or_si128(
            _mm_or_si128(within(0x21, 0x2f), within(0x3a, 0x40)),
            _mm_or_si128(within(0x5b, 0x60), within(0x7b, 0x7e)),
        );
        let breaks = _mm_movemask_epi8(_mm_or_si128(ws, p)) as u32 as u64;
        let p = _mm_movemask_epi8(p) as u32 as u64;
        word |= (!breaks & 0xffff) << (16 * q);
        punct |= p << (16 * q);
    }
    Classes { word, punct }
}

/// White space as `char::is_whitespace` on ASCII: `\t \n \x0b \x0c \r ' '`.
#[inline(always)]
pub(crate) fn is_ws(c: u8) -> bool {
    c == b' ' || c.wrapping_sub(b'\t') < 5
}

/// Bytes `i..i + 80` of `b` lower-cased, zero past its end: the keys of the words that start in
/// the 64-byte block at `i` (a key is at most 16 bytes).
#[inline(always)]
pub(crate) fn lower_block(b: &[u8], i: usize) -> [u8; 80] {
    let mut out = block::<80>(b, i, 0);
    for c in out.iter_mut() {
        *c |= ((c.wrapping_sub(b'A') < 26) as u8) << 5;
    }
    out
}

/// Lower-case eight ASCII bytes.
#[inline(always)]
pub(crate) fn lower8(v: u64) -> u64 {
    v | ((ge(v, b'A') & !ge(v, b'Z' + 1)) >> 2)
}

/// The end of the word starting at `i` (a [`WORD`] byte): the first break at or after `i`.
#[inline]
pub(crate) fn word_end(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let stop = breaks(v);
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && CLASS[b[i] as usize] == WORD {
        i += 1;
    }
    i
}

/// Bytes `i..i + len` of `b` (`len` ≤ 8) as a little-endian `u64`, zero-padded.
#[inline(always)]
pub(crate) fn load(b: &[u8], i: usize, len: usize) -> u64 {
    if len == 0 {
        return 0;
    }
    let mask = u64::MAX >> (64 - 8 * len as u32);
    match b.get(i..i + 8) {
        Some(chunk) => u64::from_le_bytes(chunk.try_into().expect("eight bytes")) & mask,
        None => {
            let mut buf = [0u8; 8];
            buf[..len].copy_from_slice(&b[i..i + len]);
            u64::from_le_bytes(buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_control_finds_cc_bytes_but_not_tab_lf_cr() {
        for len in 0..20 {
            for pos in 0..len {
                for c in 0u8..128 {
                    let mut t = vec![b'a'; len];
                    t[pos] = c;
                    let cc = (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f;
                    assert_eq!(has_control(&t), cc, "byte {c:#x} at {pos} of {len}");
                }
            }
        }
    }

    #[test]
    fn classes_match_the_bert_pre_tokenizer_on_ascii() {
        for b in 0u8..0x80 {
            let c = b as char;
            let want = if c.is_whitespace() {
                WS
            } else if c.is_ascii_punctuation() {
                PUNCT
            } else {
                WORD
            };
            assert_eq!(CLASS[b as usize], want, "byte {b:#04x}");
            let v = u64::from_le_bytes([b'a', b, b'a', b'a', b'a', b'a', b'a', b'a']);
            assert_eq!(breaks(v) != 0, want != WORD, "byte {b:#04x}");
            assert_eq!(
                lower8(v).to_le_bytes()[1],
                b.to_ascii_lowercase(),
                "byte {b:#04x}"
            );
        }
    }

    #[test]
    fn class_masks_match_the_byte_table() {
        let mut block = [b' '; 64];
        for b in 0u8..0x80 {
            for k in [0, 1, 15, 16, 31, 47, 62, 63] {
                block[k] = b;
                block[(k + 17) % 64] = b.wrapping_mul(7) & 0x7f;
                assert_eq!(
                    classes64(&block),
                    classes64_table(&block),
                    "byte {b:#x} at {k}"
                );
                block = [b' '; 64];
            }
        }
        let t: Vec<u8> = (0..64u32).map(|i| ((i * 37 + 11) % 128) as u8).collect();
        let t: [u8; 64] = t.try_into().unwrap();
        assert_eq!(classes64(&t), classes64_table(&t));
    }

    #[test]
    fn words_end_at_the_first_break() {
        let t = b"abcdefghijklmnop, qrs\tTUV0123456789xyz\x0b";
        for i in 0..t.len() {
            if CLASS[t[i] as usize] != WORD {
                continue;
            }
            let mut j = i;
            while j < t.len() && CLASS[t[j] as usize] == WORD {
                j += 1;
            }
            assert_eq!(word_end(t, i), j, "from {i}");
            for len in 0..=8.min(t.len() - i) {
                let mut buf = [0u8; 8];
                buf[..len].copy_from_slice(&t[i..i + len]);
                assert_eq!(load(t, i, len), u64::from_le_bytes(buf));
            }
        }
    }
}
