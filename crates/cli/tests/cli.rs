//! End-to-end tests of the `tierwise` binary: import, stats and demo.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tierwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tierwise"))
        .args(args)
        .output()
        .expect("run tierwise")
}

fn ok(args: &[&str]) -> (String, String) {
    let out = tierwise(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "tierwise {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

fn fails(args: &[&str]) -> String {
    let out = tierwise(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "tierwise {args:?} should fail with 2"
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `tierwise demo` options for a small, seeded workload (40 training and 10 held-out prompts).
const SMALL_DEMO: [&str; 6] = ["--seed", "1", "--train", "40", "--heldout", "10"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const RB: &str = "\
,sample_id,prompt,eval_name,cheap,dear,cheap|model_response,dear|model_response,cheap|total_cost,dear|total_cost,oracle_model_to_route_to
0,t.1,['What is 2+2?'],math,1.0,1.0,['4'],['4'],0.001,0.01,cheap
1,t.2,['Prove it.'],math,0.0,,['no'],,0.002,,dear
";

#[test]
fn import_then_stats() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rb.csv");
    std::fs::write(&csv, RB).unwrap();
    let out = dir.path().join("logs/rb.jsonl");
    let (stdout, _) = ok(&["import", "routerbench", s(&csv), "--out", s(&out)]);
    assert!(stdout.starts_with("wrote 3 rows to"), "{stdout}");
    assert!(
        stdout.contains("missing outcomes (no row written): 1"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);

    let (table, _) = ok(&["stats", "--logs", s(&out), "--by", "feature"]);
    assert!(
        table.starts_with("3 rows · 2 prompts · 2 models · 3 scored · total cost $0.0130"),
        "{table}"
    );
    assert!(table.contains("math"), "{table}");
    let (json, _) = ok(&["stats", "--logs", s(&out), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (
            v["rows"].as_u64(),
            v["prompts"].as_u64(),
            v["models"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(v["tiers"][0]["name"], "cheap", "cheapest model first");
    assert_eq!(v["tiers"][0]["observed"], 2);
    assert_eq!(v["tiers"][1]["observed"], 1);
    assert_eq!(v["read"]["kept"], 3);
}

#[test]
fn bad_input_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("bad.jsonl");
    std::fs::write(
        &logs,
        "{\"prompt\":\"a\",\"model\":\"m\",\"score\":1}\n{\"prompt\":\"b\",\"model\":\"m\",\"score\":7}\n{\"prompt\":\"c\",\"model\":\"m\"}\n",
    )
    .unwrap();
    let err = fails(&["stats", "--logs", s(&logs)]);
    assert!(
        err.contains(&format!(
            "{}:2: field `score`: must be in [0, 1], got 7",
            s(&logs)
        )),
        "{err}"
    );

    let (stdout, stderr) = ok(&["stats", "--logs", s(&logs), "--skip-invalid"]);
    assert!(
        stderr.contains("rows read: 3, kept: 2, rejected: 1"),
        "{stderr}"
    );
    assert!(stderr.contains("1  score outside [0, 1]"), "{stderr}");
    assert!(stdout.starts_with("2 rows"), "{stdout}");

    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let err = fails(&["stats", "--logs", s(&empty)]);
    assert!(err.contains("empty.jsonl: no usable rows"), "{err}");

    // A missing file or model folder: named once, with the OS's reason said once.
    let absent = dir.path().join("absent");
    for args in [
        vec!["stats", "--logs", s(&absent)],
        vec!["route", "--model", s(&absent), "--input", s(&logs)],
    ] {
        let err = fails(&args);
        let reason = "No such file or directory";
        assert!(err.contains(s(&absent)), "{err}");
        assert_eq!(err.matches(reason).count(), 1, "{args:?}: {err}");
    }

    let args = [
        "train",
        "--logs",
        s(&logs),
        "--tiers",
        "t.toml",
        "--out",
        "m",
    ];
    for (share, want) in [
        ("1.5", "1.5 is not a share between 0 and 1"),
        ("half", "`half` is not a number"),
    ] {
        for flag in ["--linear-share", "--shrink"] {
            let err = fails(&[&args[..], &[flag, share]].concat());
            assert!(err.contains(want), "{flag}: {err}");
        }
    }
}

#[test]
fn failed_import_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rb.csv");
    std::fs::write(&csv, RB.replace("0.0,,['no']", "0.0,2.5,['no']")).unwrap();
    let out = dir.path().join("rb.jsonl");
    let err = fails(&["import", "routerbench", s(&csv), "--out", s(&out)]);
    assert!(
        err.contains("rb.csv:3: field `dear`: score must be in [0, 1]"),
        "{err}"
    );
    assert!(!out.exists() && !dir.path().join("rb.jsonl.tmp").exists());
}

#[test]
fn demo_is_seeded_and_the_committed_files_match() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    let mut args = vec!["demo", "--out", s(&small)];
    args.extend(SMALL_DEMO);
    ok(&args);
    let first = std::fs::read(small.join("train.jsonl")).unwrap();
    ok(&args);
    assert_eq!(
        first,
        std::fs::read(small.join("train.jsonl")).unwrap(),
        "same seed, same bytes"
    );
    assert_eq!(String::from_utf8_lossy(&first).lines().count(), 160);
    let tiers = small.join("tiers.toml");
    let (json, _) = ok(&[
        "stats",
        "--logs",
        s(&small.join("heldout.jsonl")),
        "--tiers",
        s(&tiers),
        "--json",
        "--by",
        "tier",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["prompts"], 10);
    assert_eq!(v["tiers_from"], "config");
    assert_eq!(v["tiers"].as_array().unwrap().len(), 4);

    // datasets/demo holds exactly what `tierwise demo --out datasets/demo --seed 42` writes.
    let full = dir.path().join("full");
    ok(&["demo", "--out", s(&full), "--seed", "42"]);
    for f in ["train.jsonl", "heldout.jsonl", "tiers.toml"] {
        let committed = std::fs::read(workspace().join("datasets/demo").join(f)).unwrap();
        assert!(
            committed == std::fs::read(full.join(f)).unwrap(),
            "datasets/demo/{f} is stale: regenerate it"
        );
    }
}

#[test]
fn real_routerbench_and_routellm() {
    let data = workspace().join("../shared/datasets");
    if !data.is_dir() {
        eprintln!(
            "skipped: {} is absent (public data not on this machine)",
            data.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rb.jsonl");
    let rb = data.join("routerbench");
    let files: Vec<PathBuf> = [
        "arc_challenge_train.csv",
        "mbpp_train.csv",
        "winograde_train.csv",
    ]
    .iter()
    .map(|f| rb.join(f))
    .collect();
    let mut args = vec!["import", "routerbench"];
    args.extend(files.iter().map(|p| s(p)));
    args.extend(["--out", s(&out)]);
    let (stdout, _) = ok(&args);
    assert!(stdout.starts_with("wrote 24383 rows"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        24_383
    );
    let (table, _) = ok(&["stats", "--logs", s(&out)]);
    assert!(
        table.starts_with("24,383 rows · 2,225 prompts · 11 models"),
        "{table}"
    );
    let (json, _) = ok(&["stats", "--logs", s(&out), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (v["prompts"].as_u64(), v["models"].as_u64()),
        (Some(2_225), Some(11))
    );
    assert_eq!(v["outcome"]["prompts"], 2_225);

    let gsm = dir.path().join("gsm.jsonl");
    let tiers = workspace().join("datasets/routellm/tiers.toml");
    let gsm_csv = data.join("routellm/gsm8k_responses.csv");
    let (stdout, _) = ok(&[
        "import",
        "routellm",
        s(&gsm_csv),
        "--tiers",
        s(&tiers),
        "--out",
        s(&gsm),
    ]);
    assert!(stdout.starts_with("wrote 1830 rows"), "{stdout}");
}

/// `train --tokenizer org/name` takes tokenizer.json from the Hugging Face cache that `HF_HOME`
/// (or `HF_HUB_CACHE`) names, never the network; a path that exists wins over the id.
#[test]
fn train_takes_a_tokenizer_from_the_hf_cache() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut args = vec!["demo", "--out", s(&demo)];
    args.extend(SMALL_DEMO);
    ok(&args);
    // A BERT-family tokenizer.json of 4 tokens: [PAD] [UNK] word ##s.
    let fixture = workspace().join("crates/train/tests/data/bert_tokenizer.json");
    let hash = "0123456789abcdef0123456789abcdef01234567";
    let hf_home = dir.path().join("hf");
    let repo = hf_home.join("hub/models--org--tiny");
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), hash).unwrap();
    let snap = repo.join("snapshots").join(hash);
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::copy(&fixture, snap.join("tokenizer.json")).unwrap();
    // In the working folder, `org/tiny` is also a model folder, whose tokenizer has 5 tokens.
    let cwd = dir.path().join("cwd");
    std::fs::create_dir_all(cwd.join("org/tiny")).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    v["model"]["vocab"]["##ing"] = 4.into();
    std::fs::write(cwd.join("org/tiny/tokenizer.json"), v.to_string()).unwrap();

    let out = dir.path().join("model");
    let train = |cwd: &Path, env: (&str, &Path)| {
        let (logs, tiers) = (demo.join("train.jsonl"), demo.join("tiers.toml"));
        Command::new(env!("CARGO_BIN_EXE_tierwise"))
            .args([
                "train",
                "--logs",
                s(&logs),
                "--tiers",
                s(&tiers),
                "--out",
                s(&out),
            ])
            .args(["--tokenizer", "org/tiny", "--members", "1", "--epochs", "2"])
            .env_remove("HF_HOME")
            .env_remove("HF_HUB_CACHE")
            .env(env.0, env.1)
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    let vocab = || {
        let text = std::fs::read_to_string(out.join("tokenizer.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["model"]["vocab"].as_object().unwrap().len()
    };
    for env in [
        ("HF_HOME", hf_home.clone()),
        ("HF_HUB_CACHE", hf_home.join("hub")),
    ] {
        let run = train(dir.path(), (env.0, &env.1));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{env:?}: {stderr}");
        let used = snap.join("tokenizer.json");
        assert!(
            stderr.contains(&format!("tokenizer: {}", used.display())),
            "{stderr}"
        );
        assert_eq!(
            vocab(),
            4,
            "{env:?}: the model's tokenizer is the cached one"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }

    let run = train(&cwd, ("HF_HOME", &hf_home));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(vocab(), 5, "the folder org/tiny wins over the cached model");

    let empty = dir.path().join("empty");
    let run = train(dir.path(), ("HF_HUB_CACHE", &empty));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    for want in [
        "`org/tiny`: no tokenizer.json found",
        &format!("Hugging Face cache at {} ", empty.display()),
        "Nothing is downloaded",
    ] {
        assert!(stderr.contains(want), "wanted {want:?} in {stderr}");
    }
}

#[test]
fn route_gives_one_decision_per_prompt_and_refuses_an_id_reused_for_another_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let model = workspace().join("models/demo");
    // A log has a row per model that answered: three rows of prompt `a`, one of `b`.
    let input = dir.path().join("log.jsonl");
    let row = |id: &str, text: &str, model: &str| {
        format!("{{\"id\":\"{id}\",\"prompt\":\"{text}\",\"model\":\"{model}\",\"score\":1}}\n")
    };
    let log = [
        row("a", "Summarise this email.", "m1"),
        row("a", "Summarise this email.", "m2"),
        row("b", "Prove that 17 is prime.", "m1"),
        row("a", "Summarise this email.", "m3"),
    ]
    .concat();
    std::fs::write(&input, log).unwrap();
    let out = dir.path().join("d.jsonl");
    let (_, stderr) = ok(&[
        "route",
        "--model",
        s(&model),
        "--input",
        s(&input),
        "--output",
        s(&out),
    ]);
    let ids: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids, ["\"a\"", "\"b\""]);
    assert!(stderr.contains("routed 2 prompts with λ = "), "{stderr}");
    assert!(stderr.contains("expected cost $"), "{stderr}");
    assert!(
        stderr.contains("2 line(s) repeated a prompt id already routed"),
        "{stderr}"
    );

    let clash = dir.path().join("clash.jsonl");
    std::fs::write(
        &clash,
        "{\"id\":\"a\",\"prompt\":\"one\"}\n{\"id\":\"a\",\"prompt\":\"two\"}\n",
    )
    .unwrap();
    let err = fails(&["route", "--model", s(&model), "--input", s(&clash)]);
    assert!(
        err.contains(&format!(
            "{}:2: field `id`: `a` was routed at line 1 with another prompt",
            s(&clash)
        )),
        "{err}"
    );
}

/// A router whose artifact narrows the tiers of one feature tag: `route` marks those decisions
/// with `choosable` and keeps to it, and `eval` scores the router over the same tiers whether it
/// runs the router itself or reads `route`'s decisions (the same AIQ both ways, and not the
/// unnarrowed router's).
#[test]
fn narrowed_tiers_show_in_decisions_and_the_eval_scores_them() {
    let dir = tempfile::tempdir().unwrap();
    let demo = workspace().join("models/demo");
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    for f in ["router.safetensors", "tokenizer.json"] {
        std::fs::copy(demo.join(f), model.join(f)).unwrap();
    }
    let meta = std::fs::read_to_string(demo.join("router.json")).unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    meta["choosable"] = serde_json::json!([{"feature": "code", "tiers": ["mini", "large"]}]);
    std::fs::write(model.join("router.json"), meta.to_string()).unwrap();

    let logs = workspace().join("datasets/demo/heldout.jsonl");
    let tiers = workspace().join("datasets/demo/tiers.toml");
    let decisions = dir.path().join("d.jsonl");
    ok(&[
        "route",
        "--model",
        s(&model),
        "--input",
        s(&logs),
        "--output",
        s(&decisions),
    ]);
    let text = std::fs::read_to_string(&decisions).unwrap();
    let (mut code, mut other) = (0, 0);
    let log_text = std::fs::read_to_string(&logs).unwrap();
    let tag: std::collections::HashMap<String, String> = log_text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["feature"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for line in text.lines() {
        let d: serde_json::Value = serde_json::from_str(line).unwrap();
        if tag[d["id"].as_str().unwrap()] == "code" {
            assert_eq!(
                d["choosable"],
                serde_json::json!(["mini", "large"]),
                "{line}"
            );
            let t = d["tier"].as_str().unwrap();
            assert!(t == "mini" || t == "large", "{line}");
            code += 1;
        } else {
            assert!(d.get("choosable").is_none(), "{line}");
            other += 1;
        }
    }
    assert!(
        code > 50 && other > 50,
        "{code} code, {other} other decisions"
    );

    let aiq = |out: &Path| -> f64 {
        let r = std::fs::read_to_string(out.join("report.json")).unwrap();
        let r: serde_json::Value = serde_json::from_str(&r).unwrap();
        r["metrics"]["aiq"]["value"].as_f64().unwrap()
    };
    let (inproc, fromfile, free) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let eval = |model: &Path, out: &Path| {
        ok(&[
            "eval",
            "--model",
            s(model),
            "--logs",
            s(&logs),
            "--out",
            s(out),
            "--resamples",
            "100",
        ]);
    };
    eval(&model, &inproc);
    eval(&demo, &free);
    ok(&[
        "eval",
        "--decisions",
        s(&decisions),
        "--tiers",
        s(&tiers),
        "--logs",
        s(&logs),
        "--out",
        s(&fromfile),
        "--resamples",
        "100",
    ]);
    assert_eq!(aiq(&inproc), aiq(&fromfile));
    // The report counts the narrowed prompts it scored (code prompts with every outcome).
    let narrowed = |out: &Path| {
        let r = std::fs::read_to_string(out.join("report.json")).unwrap();
        let r: serde_json::Value = serde_json::from_str(&r).unwrap();
        let n = r["narrowed_prompts"].as_u64().unwrap() as usize;
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert_eq!(md.contains(&format!("For {n} of ")), n > 0, "{md}");
        n
    };
    let n = narrowed(&inproc);
    assert!(n > 50 && n <= code, "{n} of {code}");
    assert_eq!((narrowed(&fromfile), narrowed(&free)), (n, 0));
    assert_ne!(
        aiq(&inproc),
        aiq(&free),
        "narrowing code's tiers changed nothing"
    );
}
