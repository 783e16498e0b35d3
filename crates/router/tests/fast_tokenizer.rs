//! The ASCII tokenizer fast path against `tokenizers` on hand-made WordPiece vocabularies that
//! the trained ones never produce: multi-byte continuation pieces, pieces longer than a word
//! key, upper-case and non-ASCII pieces, an empty or word-byte continuation prefix, a small
//! `max_input_chars_per_word`; with the `Lowercase` normaliser and with uncased BERT ones
//! (`clean_text` on and off) and added tokens. A real BERT `tokenizer.json` is checked too
//! when `TIERWISE_TEST_TOKENIZER` names one.
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

fn tokenizer(
    prefix: &str,
    max_chars: usize,
    normalizer: serde_json::Value,
    added: &[&str],
) -> tokenizers::Tokenizer {
    let mut vocab: Vec<String> = PIECES.iter().map(|s| s.to_string()).collect();
    for c in ('a'..='z').chain('0'..='9') {
        if c != 'q' && c != 'z' {
            vocab.push(c.to_string());
            vocab.push(format!("{prefix}{c}"));
        }
    }
    let mut map = serde_json::Map::new();
    vocab.extend(added.iter().map(|s| s.to_string()));
    for v in vocab {
        let id = map.len() as u32;
        map.entry(v).or_insert(id.into());
    }
    let added: Vec<_> = added
        .iter()
        .map(|a| {
            serde_json::json!({"id": map[*a], "content": a, "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": normalizer,
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

fn texts() -> Vec<String> {
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
            "[CLS] the fox [SEP] [cls] [SEP [MASK]] [[CLS]]",
        ]
        .map(String::from),
    );
    texts
}

fn same_ids(f: &Featuriser, texts: &[String], what: &str) {
    for t in texts {
        let mut fast = Vec::new();
        f.token_ids(t, |id| fast.push(id));
        assert_eq!(fast, f.token_ids_slow(t), "{what}, text {t:?}");
    }
}

#[test]
fn fast_path_matches_tokenizers_on_odd_vocabularies() {
    let texts = texts();
    let lower = serde_json::json!({"type": "Lowercase"});
    for (prefix, max_chars) in [
        ("##", 100),
        ("##", 5),
        ("##", 300),
        ("", 100),
        ("xx", 100),
        ("##", 0),
    ] {
        let tok = tokenizer(prefix, max_chars, lower.clone(), &[]);
        let f = Featuriser::new(FeaturiserConfig::new(1024), tok);
        assert!(f.has_fast_path());
        same_ids(&f, &texts, &format!("prefix {prefix:?}, max {max_chars}"));
    }
}

#[test]
fn fast_path_matches_tokenizers_with_uncased_bert_normalisers_and_added_tokens() {
    let texts = texts();
    let bert = |clean: bool, chinese: bool, strip: Option<bool>, lower: bool| {
        serde_json::json!({"type": "BertNormalizer", "clean_text": clean,
            "handle_chinese_chars": chinese, "strip_accents": strip, "lowercase": lower})
    };
    let added = ["[CLS]", "[SEP]", "[MASK]"];
    for norm in [
        bert(true, true, None, true),
        bert(false, false, Some(false), true),
        bert(true, false, Some(true), true),
    ] {
        for added in [&added[..], &[]] {
            let f = Featuriser::new(
                FeaturiserConfig::new(1024),
                tokenizer("##", 100, norm.clone(), added),
            );
            assert!(f.has_fast_path(), "{norm}");
            same_ids(&f, &texts, &format!("{norm}, added {added:?}"));
        }
    }
    // A cased BERT normaliser keeps upper case: not the fast path's shape.
    let cased = tokenizer("##", 100, bert(true, true, None, false), &[]);
    assert!(!Featuriser::new(FeaturiserConfig::new(1024), cased).has_fast_path());
}

/// A real `tokenizer.json` (e.g. a BERT-family model's): `TIERWISE_TEST_TOKENIZER=path`.
#[test]
fn fast_path_matches_a_real_tokenizer_json_when_given() {
    let Ok(path) = std::env::var("TIERWISE_TEST_TOKENIZER") else {
        eprintln!("skipped: set TIERWISE_TEST_TOKENIZER to a tokenizer.json to check it");
        return;
    };
    let mut tok = tokenizers::Tokenizer::from_file(&path).expect("the tokenizer loads");
    // Training strips these (bag features want every token, no padding); so does this check.
    tok.with_truncation(None).expect("no truncation");
    tok.with_padding(None);
    let f = Featuriser::new(FeaturiserConfig::new(1 << 18), tok);
    assert!(f.has_fast_path(), "{path}: no fast path for this tokenizer");
    same_ids(&f, &texts(), &path);
}
