//! `tierwise train` and `tierwise route` on inputs that must be refused or warned about before
//! they cost anything: out-of-range options, a tier no log row reaches, an unreachable target,
//! an output file that is the input, an empty prompt, a failed run's partial output, and a
//! reader that closes the pipe early.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::{ok, root, run, s};

/// Run `tierwise args`, which must exit 2; its output.
fn fails(args: &[&str]) -> String {
    let (code, text) = run(args);
    assert_eq!(code, 2, "tierwise {args:?} should fail with 2:\n{text}");
    text
}

/// The first `rows` rows of the demo's training log (4 rows, one per tier, per prompt).
fn small_log(dir: &Path, rows: usize) -> PathBuf {
    let text = std::fs::read_to_string(root().join("datasets/demo/train.jsonl")).unwrap();
    let path = dir.join("train.jsonl");
    let head: Vec<&str> = text.lines().take(rows).collect();
    std::fs::write(&path, head.join("\n") + "\n").unwrap();
    path
}

/// A temporary folder holding the log of the demo's first 100 prompts, and the demo's tiers.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let logs = small_log(dir.path(), 400);
    (dir, logs, root().join("datasets/demo/tiers.toml"))
}

/// `tierwise train --logs logs --tiers tiers --out out` and `extra`: (exit code, output).
fn train(logs: &Path, tiers: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "train",
        "--logs",
        s(logs),
        "--tiers",
        s(tiers),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn train_refuses_bad_options_and_a_tier_without_rows_before_training() {
    let (dir, logs, tiers) = setup();
    let out = dir.path().join("m");
    for (to, extra, want) in [
        (
            &out,
            &["--val-split", "0"][..],
            "validation share 0 is not in (0, 0.9)",
        ),
        (
            &out,
            &["--val-split", "-0.1"][..],
            "validation share -0.1 is not in (0, 0.9)",
        ),
        (
            &out,
            &["--shrink", "-1"][..],
            "-1 is not a share between 0 and 1",
        ),
        (
            &out,
            &["--members", "0", "--no-linear", "--no-lowrank"][..],
            "no member to train",
        ),
        (&logs, &[][..], "is a file: give a folder"),
    ] {
        let (code, err) = train(&logs, &tiers, to, extra);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
        assert!(!err.contains("epoch"), "refused only after training: {err}");
    }
    assert!(!out.exists());

    // A typo in a tier's model: no row reaches that tier.
    let typo = dir.path().join("tiers.toml");
    let toml = std::fs::read_to_string(&tiers).unwrap();
    std::fs::write(
        &typo,
        toml.replace("\"gpt-4o-2024-08-06\"", "\"gpt-4o-2024-08-6\""),
    )
    .unwrap();
    let logs_only_model = dir.path().join("no_tier_field.jsonl");
    let rows: Vec<String> = std::fs::read_to_string(&logs)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("tier");
            v.to_string()
        })
        .collect();
    std::fs::write(&logs_only_model, rows.join("\n")).unwrap();
    let (code, err) = train(&logs_only_model, &typo, &out, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no scored training row for tier `medium` (model `gpt-4o-2024-08-6`)")
            && err.contains("\"gpt-4o-2024-08-06\": 100"),
        "{err}"
    );
    // One tier: nothing to choose between.
    let one = dir.path().join("one.toml");
    let first_tier_end = toml.match_indices("[[tier]]").nth(1).unwrap().0;
    std::fs::write(&one, &toml[..first_tier_end]).unwrap();
    let (code, err) = train(&logs, &one, &out, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("1 tier(s) configured: a router chooses between at least 2"),
        "{err}"
    );
    assert!(!out.exists());
}

/// `--token-vectors FOLDER` reads its `model.safetensors` and, unless `--tokenizer` is given,
/// the `tokenizer.json` beside it; the artifact names the vectors. Without a tokenizer beside
/// them it stops before reading the logs.
#[test]
fn token_vectors_come_with_their_tokenizer() {
    let (dir, logs, tiers) = setup();
    let first = dir.path().join("first");
    let one = ["--members", "1"];
    assert_eq!(train(&logs, &tiers, &first, &one).0, 0);
    // A "model folder": the first router's tokenizer and a made-up table of 4-wide vectors.
    let model = dir.path().join("encoder");
    std::fs::create_dir(&model).unwrap();
    let tok = std::fs::read_to_string(first.join("tokenizer.json")).unwrap();
    std::fs::write(model.join("tokenizer.json"), &tok).unwrap();
    let v: serde_json::Value = serde_json::from_str(&tok).unwrap();
    let vocab = v["model"]["vocab"].as_object().unwrap().len();
    let bytes: Vec<u8> = (0..vocab * 4)
        .flat_map(|i| (((i * 37) % 11) as f32 / 11.0 - 0.5).to_le_bytes())
        .collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![vocab, 4], &bytes)
            .unwrap();
    let table = safetensors::serialize([("embeddings.word_embeddings.weight", view)], None);
    std::fs::write(model.join("model.safetensors"), table.unwrap()).unwrap();
    let out = dir.path().join("with_vectors");
    let vectors = ["--members", "1", "--token-vectors", s(&model)];
    let (code, text) = train(&logs, &tiers, &out, &vectors);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("tokenizer: {}", s(&model.join("tokenizer.json")))),
        "{text}"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("router.json")).unwrap()).unwrap();
    let used = &meta["training"]["token_vectors"];
    assert_eq!(used["path"], s(&model.join("model.safetensors")), "{meta}");
    assert_eq!(used["sha256"].as_str().unwrap().len(), 64);

    std::fs::remove_file(model.join("tokenizer.json")).unwrap();
    let (code, text) = train(&logs, &tiers, &out, &vectors);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no tokenizer.json beside"), "{text}");
    assert!(!text.contains("rows read"), "read the logs first: {text}");
}

#[test]
fn an_unreachable_target_is_said_in_train_and_route() {
    let (dir, logs, tiers) = setup();
    let out = dir.path().join("m");
    let (code, text) = train(
        &logs,
        &tiers,
        &out,
        &["--members", "1", "--target", "quality=1.5"],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("warning: target quality=1.5 is out of reach on the validation prompts"),
        "{text}"
    );
    let (code, text) = train(&logs, &tiers, &out, &["--members", "1"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("out of reach"), "{text}");
    let heldout = root().join("datasets/demo/heldout.jsonl");
    let routed = |target: &str| {
        ok(&[
            "route",
            "--model",
            s(&out),
            "--input",
            s(&heldout),
            "--output",
            s(&dir.path().join("d.jsonl")),
            "--target",
            target,
        ])
    };
    let text = routed("cost=0.0001");
    assert!(
        text.contains("warning: target cost=0.0001 is out of reach")
            && text.contains("lowest cost"),
        "{text}"
    );
    assert!(!routed("quality=0.9").contains("out of reach"));
}

#[test]
fn route_keeps_its_input_and_writes_whole_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let model = root().join("models/demo");
    let input = dir.path().join("in.jsonl");
    let prompts = "{\"id\":\"a\",\"prompt\":\"Summarise this email.\"}\n\
                   {\"id\":\"b\",\"prompt\":\"Prove that 17 is prime.\"}\n";
    std::fs::write(&input, prompts).unwrap();
    // The output named as the input: refused, the input kept.
    let err = fails(&[
        "route",
        "--model",
        s(&model),
        "--input",
        s(&input),
        "--output",
        s(&input),
    ]);
    assert!(err.contains("is the --input file"), "{err}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), prompts);

    // A bad third line: no output file, and an earlier one left as it was.
    let out = dir.path().join("d.jsonl");
    std::fs::write(&out, "earlier\n").unwrap();
    for (line, want) in [
        (
            "{\"id\":\"c\",\"prompt\":\"\"}",
            "field `prompt`: the prompt text is empty",
        ),
        (
            "{\"id\":\"c\",\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"}]}",
            "field `messages`: the prompt text is empty",
        ),
        ("{\"id\":\"c\",", "field `(json)`: malformed JSON"),
    ] {
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, format!("{prompts}{line}\n")).unwrap();
        let err = fails(&[
            "route",
            "--model",
            s(&model),
            "--input",
            s(&bad),
            "--output",
            s(&out),
        ]);
        assert!(err.contains(&format!("{}:3: {want}", s(&bad))), "{err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier\n");
        assert!(!dir.path().join("d.jsonl.tmp").exists());
    }
    let text = ok(&[
        "route",
        "--model",
        s(&model),
        "--input",
        s(&input),
        "--output",
        s(&out),
    ]);
    assert!(text.contains("routed 2 prompts"), "{text}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
}

/// `tierwise route … | head -1`: the reader closes the pipe after one line; route stops
/// quietly with exit 0 instead of reporting a broken pipe.
#[test]
fn route_stops_quietly_when_its_reader_goes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierwise"))
        .args([
            "route",
            "--model",
            s(&root().join("models/demo")),
            "--input",
            s(&root().join("datasets/demo/heldout.jsonl")),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"id\":"), "{first}");
    // The read end is dropped here; 600 decisions overflow the pipe's buffer.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
