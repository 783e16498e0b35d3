//! A router keeps to the tiers its artifact lets it choose for a prompt's feature tag, leaves
//! other tags free, says which tiers those are, and refuses a list naming a tier it lacks.
use std::path::{Path, PathBuf};

use tierwise_router::{Prompt, Router};

/// `models/demo` in a fresh temp dir with `choosable` set to `list` (JSON).
fn demo_with(list: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/demo");
    let dir = tempfile::tempdir().unwrap();
    for f in ["router.safetensors", "tokenizer.json"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let text = std::fs::read_to_string(src.join("router.json")).unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    meta["choosable"] = serde_json::from_str(list).unwrap();
    std::fs::write(dir.path().join("router.json"), meta.to_string()).unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn decisions_keep_to_the_tiers_of_the_prompt_tag() {
    let (_tmp, free) = demo_with("[]");
    let free = Router::load(free).unwrap();
    let (_tmp2, dir) = demo_with(r#"[{"feature": "code", "tiers": ["mini", "large"]}]"#);
    let narrow = Router::load(dir).unwrap();
    let texts = [
        "Write a Python function that merges two sorted lists.",
        "Fix the off-by-one error in this loop: for i in range(1, len(xs)): total += xs[i]",
        "Summarise the quarterly report in three bullet points.",
        "Explain why the borrow checker rejects this Rust code.",
    ];
    let mut moved = 0;
    for text in texts {
        let code = Prompt::text(text).with_feature("code");
        assert_eq!(narrow.choosable(&code), [true, false, false, true]);
        for lambda in tierwise_router::policy::lambda_grid() {
            let (a, b) = (free.predict(&code), narrow.predict(&code));
            assert_eq!(a.p, b.p, "the probabilities do not change");
            let t = narrow.choose(&b, lambda);
            assert!(t == 0 || t == 3, "{text}: tier {t} at λ {lambda}");
            moved += (free.choose(&a, lambda) != t) as usize;
        }
        let d = narrow.decide(&code);
        assert!(d.tier == "mini" || d.tier == "large", "{}", d.tier);
        // Another tag, or none: every tier, the same decision as without the list.
        for prompt in [
            Prompt::text(text).with_feature("reasoning"),
            Prompt::text(text),
        ] {
            assert!(narrow.choosable(&prompt).is_empty());
            assert_eq!(narrow.decide(&prompt), free.decide(&prompt));
        }
    }
    assert!(
        moved > 0,
        "the list never changed a choice: the test proves nothing"
    );
}

#[test]
fn a_list_naming_an_unknown_tier_is_refused() {
    let (_tmp, dir) = demo_with(r#"[{"feature": "code", "tiers": ["mini", "huge"]}]"#);
    let e = Router::load(dir).unwrap_err().to_string();
    assert!(
        e.contains("router.json") && e.contains("`choosable[0]`: `huge` is not one of the tiers"),
        "{e}"
    );
}
