//! Test corpora shared by the fast-path tests.
#![allow(dead_code)]

/// Texts that stress the tokenizer's corners.
pub fn edge_cases() -> Vec<String> {
    let bench = "The quarterly report shows that revenue grew by 12 percent, driven by strong \
        demand in Europe; however, margins narrowed because shipping costs (fuel, insurance) \
        rose. Please summarise the key risks, list three actions, and write a short Python \
        function def margin(rev, cost): return (rev - cost) / rev to check the numbers. ";
    let mut v: Vec<String> = [
        "",
        " ",
        "a",
        "A",
        "Hello, World! It's 3.14159 -- isn't it?",
        "def f(x):\n    return x**2  # comment\t\tend",
        "Supercalifragilisticexpialidociousnesslessness unknownwordzzzz qqqqqq",
        "A [UNK] token, [unk] and brackets [x]",
        "Café naïve — unicode goes the slow way 東京",
        "   \n\x0b\x0c  spaces   \r\n",
        "\x00\x01\x1c\x1d\x1e\x1f\x7f ctrl\x01inside\x7fword",
        "!!!...???,,,;;;:::(((]]]{{{}}}~~~``` ```` `",
        "0123456789 12,345.67 1e10 0x1F 3rd 21st",
        "MiXeD CaSe WORDS ThE QuIcK",
        "tab\tseparated\tvalues\nand\x0cvertical\x0bthings",
        "email@example.com https://example.com/path?q=1&r=2#frag",
        "aaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbb cccccccc ddddddddd",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in [99, 100, 101, 127, 128, 129, 150, 300] {
        v.push("x".repeat(n));
        v.push(format!("start {} end", "ab".repeat(n / 2)));
    }
    // Every word of the bench text at every offset of a 64-byte block.
    for pad in 0..64 {
        v.push(format!("{}{}", ";".repeat(pad), &bench[..300]));
    }
    // Words that end exactly at, just before and just after a block's end.
    for pad in [0, 1, 62, 63] {
        for len in [15, 16, 17, 62, 63, 64, 65, 127, 128, 129] {
            v.push(format!(
                "{};{} x.",
                ";".repeat(pad),
                "ab".repeat(len).split_at(len).0
            ));
        }
    }
    for chars in [1, 7, 8, 9, 15, 16, 17, 200, 500, 2000, 8000] {
        v.push(bench.chars().cycle().take(chars).collect());
    }
    v
}

/// Deterministic random ASCII texts: vocabulary-ish words, random case, punctuation, digits,
/// control characters, runs of separators, long words.
pub fn random_texts(n: usize, seed: u64) -> Vec<String> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |m: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % m
    };
    let words = [
        "the",
        "quick",
        "brown",
        "fox",
        "revenue",
        "report",
        "summarise",
        "python",
        "def",
        "return",
        "unwanted",
        "running",
        "ing",
        "ed",
        "un",
        "able",
        "customer",
        "message",
        "classify",
        "label",
        "only",
        "answer",
        "internationalization",
        "zzz",
        "qx",
    ];
    (0..n)
        .map(|_| {
            let mut t = String::new();
            for _ in 0..next(60) {
                match next(10) {
                    0..=4 => {
                        let w = words[next(words.len() as u64) as usize];
                        for c in w.chars() {
                            t.push(if next(5) == 0 {
                                c.to_ascii_uppercase()
                            } else {
                                c
                            });
                        }
                    }
                    5 => t.push_str(&next(100_000).to_string()),
                    6 => t.push(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"[next(32) as usize] as char),
                    7 => t.push([' ', '\t', '\n', '\x0b', '\x0c', '\r'][next(6) as usize]),
                    8 => t.push((next(128) as u8) as char),
                    _ => {
                        for _ in 0..next(130) {
                            t.push((b'a' + next(26) as u8) as char);
                        }
                    }
                }
                if next(3) > 0 {
                    t.push(' ');
                }
            }
            t
        })
        .collect()
}
