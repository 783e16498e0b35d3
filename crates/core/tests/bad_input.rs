//! Every kind of bad log line is rejected with a message naming the file, the line and the
//! field; `skip_invalid` counts rejections by reason; an empty input is an error.
use std::path::PathBuf;

use tierwise_core::{read_logs, ReadOptions, RejectKind};

const GOOD: &str = r#"{"prompt":"What is 2+2?","model":"m","score":1}"#;

/// Write `lines` (raw bytes) to a file named `name` in a fresh temp dir.
fn file(name: &str, lines: &[&[u8]]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let mut bytes = Vec::new();
    for l in lines {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Read a file whose line 2 is `bad` and return the error message; check its kind.
fn reject(bad: &[u8], kind: RejectKind) -> String {
    let (_dir, path) = file("logs.jsonl", &[GOOD.as_bytes(), bad, GOOD.as_bytes()]);
    let err = read_logs(&[&path], ReadOptions::default()).unwrap_err();
    assert_eq!(err.reject_kind(), Some(kind), "{err}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}:2: field `", path.display())),
        "names file and line: {msg}"
    );
    msg
}

#[test]
fn malformed_json() {
    let m = reject(
        br#"{"prompt": "x", "model": "m""#,
        RejectKind::MalformedJson,
    );
    assert!(
        m.contains("field `(json)`: malformed JSON at column"),
        "{m}"
    );
    let m = reject(b"[1, 2]", RejectKind::MalformedJson);
    assert!(m.contains("not a JSON object"), "{m}");
}

#[test]
fn a_byte_order_mark_on_line_one_is_skipped() {
    let bom_first = [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat();
    let (_dir, path) = file("bom.jsonl", &[&bom_first, GOOD.as_bytes()]);
    let set = read_logs(&[&path], ReadOptions::default()).unwrap();
    assert_eq!(set.rows.len(), 2);
    // Only at the start of the file: elsewhere it is still malformed JSON.
    let m = reject(&bom_first, RejectKind::MalformedJson);
    assert!(
        m.contains("field `(json)`: malformed JSON at column 1"),
        "{m}"
    );
}

#[test]
fn neither_prompt_nor_messages() {
    let m = reject(br#"{"model":"m","score":1}"#, RejectKind::NoPrompt);
    assert!(
        m.contains("field `prompt`: neither `prompt` nor `messages`"),
        "{m}"
    );
    let m = reject(br#"{"prompt":"   ","model":"m"}"#, RejectKind::NoPrompt);
    assert!(
        m.contains("field `prompt`: the prompt text is empty"),
        "{m}"
    );
    let m = reject(
        br#"{"messages":[{"role":"assistant","content":"hi"}],"model":"m"}"#,
        RejectKind::NoPrompt,
    );
    assert!(m.contains("field `messages`"), "{m}");
}

#[test]
fn score_outside_unit_interval() {
    let m = reject(
        br#"{"prompt":"p","model":"m","score":1.5}"#,
        RejectKind::ScoreOutOfRange,
    );
    assert!(
        m.contains("field `score`: must be in [0, 1], got 1.5"),
        "{m}"
    );
    let m = reject(
        br#"{"prompt":"p","model":"m","score":-0.1}"#,
        RejectKind::ScoreOutOfRange,
    );
    assert!(m.contains("field `score`"), "{m}");
}

#[test]
fn negative_cost() {
    let m = reject(
        br#"{"prompt":"p","model":"m","cost_usd":-0.01}"#,
        RejectKind::Negative,
    );
    assert!(m.contains("field `cost_usd`: must be ≥ 0"), "{m}");
}

#[test]
fn negative_tokens() {
    for f in [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
    ] {
        let line = format!(r#"{{"prompt":"p","model":"m","{f}":-3}}"#);
        let m = reject(line.as_bytes(), RejectKind::Negative);
        assert!(
            m.contains(&format!("field `{f}`: must be ≥ 0, got -3")),
            "{m}"
        );
    }
}

#[test]
fn cache_tokens_beyond_input_tokens() {
    let m = reject(
        br#"{"prompt":"p","model":"m","input_tokens":10,"cache_read_tokens":50}"#,
        RejectKind::BadField,
    );
    assert!(
        m.contains("field `cache_read_tokens`: cache-read tokens are part of input_tokens (10)")
            && m.contains("got 50"),
        "{m}"
    );
    let m = reject(
        br#"{"prompt":"p","model":"m","input_tokens":10,"cache_read_tokens":6,"cache_write_tokens":5}"#,
        RejectKind::BadField,
    );
    assert!(
        m.contains("field `cache_write_tokens`:") && m.contains("got 11"),
        "{m}"
    );
    let (_dir, path) = file(
        "ok.jsonl",
        &[br#"{"prompt":"p","model":"m","input_tokens":10,"cache_read_tokens":6,"cache_write_tokens":4}"#],
    );
    read_logs(&[&path], ReadOptions::default()).unwrap();
}

#[test]
fn not_utf8() {
    let m = reject(
        b"{\"prompt\":\"caf\xe9\",\"model\":\"m\"}",
        RejectKind::NotUtf8,
    );
    assert!(
        m.contains("field `prompt`: invalid UTF-8 at byte 14"),
        "{m}"
    );
}

#[test]
fn id_reused_for_a_different_prompt() {
    let (_dir, path) = file(
        "ids.jsonl",
        &[
            br#"{"id":"q1","prompt":"first","model":"a"}"#,
            br#"{"id":"q1","prompt":"  first ","model":"b"}"#,
            br#"{"id":"q1","prompt":"second","model":"c"}"#,
        ],
    );
    let err = read_logs(&[&path], ReadOptions::default()).unwrap_err();
    assert_eq!(err.reject_kind(), Some(RejectKind::IdConflict));
    let m = err.to_string();
    let want = format!(
        "{}:3: field `id`: id `q1` was used for a different prompt text at {}:1",
        path.display(),
        path.display()
    );
    assert!(m.starts_with(&want), "{m}");
}

#[test]
fn empty_input_is_an_error() {
    let (_dir, path) = file("empty.jsonl", &[]);
    let m = read_logs(&[&path], ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("empty.jsonl: no usable rows: the input has no lines"),
        "{m}"
    );
    let (_dir, blank) = file("blank.jsonl", &[b"", b"   "]);
    let m = read_logs(&[&blank], ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(m.contains("blank.jsonl: no usable rows"), "{m}");
    let (_dir, bad) = file("bad.jsonl", &[b"{"]);
    let opts = ReadOptions {
        skip_invalid: true,
        ..Default::default()
    };
    let m = read_logs(&[&bad], opts).unwrap_err().to_string();
    assert!(
        m.contains("bad.jsonl: no usable rows: every line was rejected"),
        "{m}"
    );
}

#[test]
fn skip_invalid_counts_by_reason() {
    let lines: Vec<&[u8]> = vec![
        GOOD.as_bytes(),
        b"not json",
        br#"{"model":"m"}"#,
        br#"{"prompt":"p","model":"m","score":2}"#,
        br#"{"prompt":"p","model":"m","cost_usd":-1}"#,
        br#"{"prompt":"p","model":"m","output_tokens":-1}"#,
        b"{\"prompt\":\"\xff\",\"model\":\"m\"}",
        br#"{"id":"x","prompt":"one","model":"m"}"#,
        br#"{"id":"x","prompt":"two","model":"m"}"#,
        b"",
        GOOD.as_bytes(),
    ];
    let (_dir, path) = file("mixed.jsonl", &lines);
    let opts = ReadOptions {
        skip_invalid: true,
        ..Default::default()
    };
    let set = read_logs(&[&path], opts).unwrap();
    let r = &set.report;
    assert_eq!((r.read, r.kept, r.rejected_total()), (10, 3, 7));
    assert_eq!(set.rows.len(), 3);
    let count = |k| r.rejected.get(&k).copied().unwrap_or(0);
    assert_eq!(count(RejectKind::MalformedJson), 1);
    assert_eq!(count(RejectKind::NoPrompt), 1);
    assert_eq!(count(RejectKind::ScoreOutOfRange), 1);
    assert_eq!(count(RejectKind::Negative), 2);
    assert_eq!(count(RejectKind::NotUtf8), 1);
    assert_eq!(count(RejectKind::IdConflict), 1);
    let summary = r.summary();
    assert!(
        summary.starts_with("rows read: 10, kept: 3, rejected: 7"),
        "{summary}"
    );
    assert!(
        summary.contains("       2  negative cost, latency or tokens"),
        "{summary}"
    );
    assert!(
        summary.contains("mixed.jsonl:4: field `score`"),
        "{summary}"
    );
    // Without skip_invalid the same file stops at line 2.
    let m = read_logs(&[&path], ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(m.contains("mixed.jsonl:2: field `(json)`"), "{m}");
}
