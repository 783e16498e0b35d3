//! The ASCII tokenizer fast path against `tokenizers` on hand-made WordPiece vocabularies that
//! the trained ones never produce: multi-byte continuation pieces, pieces longer than a word
//! key, upper-case and non-ASCII pieces, an empty or word-byte continuation prefix, a small
//! `max_input_chars_per_word`.
use tierwise_router::features::{Featuriser, FeaturiserConfig};

mod common;
use common::{edge_cases, random_texts};

const PIECES: &[&str] = &[
    "[UNK]",
    "un",
    "##want",
    "##wanted",
    "##ed",
    "runn",
    "##ing",
    "##s",
    "the",
    "quick",
    "brown",
    "fox",
    "want",
    "wanted",
    "##able",
    "able",
    "aff",
    "##aff",
    "internationalization",
    "international",
    "##ization",
    "##ation",
    "supercalifragilistic",
    "##expialidocious",
    "12",
    "##34",
    "3",
    "##5",
    ",",
    ".",
    "!",
    "(",
    ")",
    "#",
    "##",
    "###",
    "##.",
    "a.b",
    "Upper",
    "upper",
    "na\u{ef}ve",
    "x\u{1}y",
    "\u{1}",
    "##\u{7f}",
    "re",
    "##venue",
    "revenue",
    "port",
    "##port",
    "xxab",
    "c",
];

fn tokenizer(prefix: &str, max_chars: usize) -> tokenizers::Tokenizer {
    let mut vocab: Vec<String> = PIECES.iter().map(|s| s.to_string()).collect();
    for c in ('a'..='z').chain('0'..='9') {
        if c != 'q' && c != 'z' {
            vocab.push(c.to_string());
            vocab.push(format!("{prefix}{c}"));
        }
    }
    let mut map = serde_json::Map::new();
    for v in vocab {
        let id = map.len() as u32;
        map.entry(v).or_insert(id.into());
    }
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": null, "decoder": null,
        "model": {
            "type": "WordPiece", "unk_token": "[UNK]",
            "continuing_subword_prefix": prefix,
            "max_input_chars_per_word": max_chars,
            "vocab": map,
        }
    });
    json.to_string().parse().expect("a valid tokenizer")
}

#[test]
fn fast_path_matches_tokenizers_on_odd_vocabularies() {
    let mut texts = edge_cases();
    texts.extend(random_texts(400, 7));
    texts.extend(
        [
            "unwanted unwantedly running runnings UNWANTED Unwanted",
            "internationalization internationalizations INTERNATIONAL",
            "supercalifragilisticexpialidocious supercalifragilisticexpialidociousx",
            "12345 1234 125 3 35 355",
            "a.b ## ### #. x\u{1}y \u{1} c\u{7f} revenue reportport re-port xxab xxxab",
            "naive Upper UPPER upper",
        ]
        .map(String::from),
    );
    for (prefix, max_chars) in [
        ("##", 100),
        ("##", 5),
        ("##", 300),
        ("", 100),
        ("xx", 100),
        ("##", 0),
    ] {
        let f = Featuriser::new(FeaturiserConfig::new(1024), tokenizer(prefix, max_chars));
        assert!(f.has_fast_path());
        for t in &texts {
            let mut fast = Vec::new();
            f.token_ids(t, |id| fast.push(id));
            assert_eq!(
                fast,
                f.token_ids_slow(t),
                "prefix {prefix:?}, max {max_chars}, text {t:?}"
            );
        }
    }
}
