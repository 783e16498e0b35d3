//! RouteLLM evaluation outcomes (CSV) → log rows.
//!
//! Columns: `prompt`, one `True`/`False` correctness column per model, and optional
//! `MODEL_response` columns with that model's answer. Every other column is a model.
//!
//! Mapping:
//! - one row per (prompt, model) with a `True` (score 1.0) or `False` (score 0.0); an empty cell
//!   is a missing outcome and writes no row;
//! - `feature` from the file name: `mmlu_anatomy.csv` → `mmlu/anatomy`,
//!   `gsm8k_responses.csv` → `gsm8k`;
//! - `id` = the default prompt id (hash of the normalised text), written out, so the same
//!   question asked twice is one prompt (its repeats are averaged in the outcome table);
//! - with a tier config, `tier`, `input_tokens` (estimated from the prompt), `output_tokens`
//!   (estimated from the response when the file has one, else
//!   [`RouteLlmOptions::default_output_tokens`]) and `cost_usd` from the tier's list prices;
//!   `meta.estimated` lists those estimated fields. Without a config, no cost is written.
use std::path::Path;

use serde_json::json;

use crate::error::{Error, Result};
use crate::import::{distinct_files, CsvFile, ImportReport, Tally};
use crate::log::{LogRow, FORMAT_VERSION};
use crate::text;
use crate::tiers::{TierConfig, Usage};

/// Output tokens billed for a row without a response: MMLU prompts ask for one answer letter.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 1;

/// How to import RouteLLM files.
#[derive(Debug, Clone)]
pub struct RouteLlmOptions {
    /// Tier config whose prices give each row an estimated cost; its file name for errors.
    pub tiers: Option<(TierConfig, String)>,
    /// Output tokens to bill when a row has no response.
    pub default_output_tokens: u64,
}

impl Default for RouteLlmOptions {
    fn default() -> Self {
        RouteLlmOptions {
            tiers: None,
            default_output_tokens: DEFAULT_OUTPUT_TOKENS,
        }
    }
}

/// The feature tag of a RouteLLM file: `mmlu_anatomy` → `mmlu/anatomy`, `gsm8k_responses` →
/// `gsm8k`.
pub fn feature_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let stem = stem
        .strip_suffix("_responses")
        .or_else(|| stem.strip_suffix("_response"))
        .unwrap_or(&stem);
    match stem.split_once('_') {
        Some(("mmlu", subject)) => format!("mmlu/{subject}"),
        _ => stem.to_string(),
    }
}

/// Import RouteLLM CSV files in order, passing each row to `sink`.
pub fn import_routellm<P: AsRef<Path>>(
    paths: &[P],
    opts: &RouteLlmOptions,
    sink: &mut dyn FnMut(LogRow) -> Result<()>,
) -> Result<ImportReport> {
    distinct_files(paths)?;
    let mut tally = Tally::new(sink);
    for path in paths {
        import_file(path.as_ref(), opts, &mut tally)?;
        tally.report.files += 1;
    }
    if tally.report.rows == 0 {
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.as_ref().display().to_string())
            .collect();
        return Err(Error::Empty {
            file: if names.is_empty() {
                "(no files)".into()
            } else {
                names.join(", ")
            },
            reason: "no (prompt, model) cell with a True/False outcome".into(),
        });
    }
    if opts.tiers.is_some() {
        tally.report.notes.push(format!(
            "costs are estimates: list prices × tokens estimated at ~4 characters a token \
             ({} output token(s) when a row has no response)",
            opts.default_output_tokens
        ));
    }
    Ok(tally.finish())
}

fn import_file(path: &Path, opts: &RouteLlmOptions, tally: &mut Tally) -> Result<()> {
    let mut csv = CsvFile::open(path)?;
    let prompt_col = csv.column("prompt")?;
    let feature = feature_of(path);
    // (model, score column, response column, tier index)
    let mut models = Vec::new();
    for (i, h) in csv.headers.iter().enumerate() {
        if i == prompt_col || h.is_empty() || h.ends_with("_response") {
            continue;
        }
        let response = csv
            .headers
            .iter()
            .position(|x| *x == format!("{h}_response"));
        let tier = match &opts.tiers {
            Some((config, file)) => Some(config.tier_of_model(h).ok_or_else(|| {
                csv.bad(1, h, format!("model `{h}` belongs to no tier of {file}"))
            })?),
            None => None,
        };
        models.push((h.clone(), i, response, tier));
    }
    if models.is_empty() {
        return Err(csv.bad(1, "(header)", "no model outcome columns".into()));
    }
    while let Some((line, rec)) = csv.next()? {
        tally.report.records += 1;
        let prompt = &rec[prompt_col];
        if prompt.trim().is_empty() {
            return Err(csv.empty_prompt(line));
        }
        let id = text::prompt_id(prompt);
        for (model, col, response_col, tier) in &models {
            let score = match rec[*col].trim() {
                "" => {
                    tally.report.missing_outcomes += 1;
                    continue;
                }
                "True" | "true" | "1" | "1.0" => 1.0,
                "False" | "false" | "0" | "0.0" => 0.0,
                other => {
                    return Err(csv.bad(
                        line,
                        model,
                        format!("expected True or False, got `{other}`"),
                    ))
                }
            };
            let response = response_col
                .map(|c| rec[c].to_string())
                .filter(|r| !r.trim().is_empty());
            let mut row = LogRow {
                v: Some(FORMAT_VERSION),
                id: Some(id.clone()),
                prompt: Some(prompt.to_string()),
                model: model.clone(),
                feature: Some(feature.clone()),
                score: Some(score),
                meta: Some(json!({ "source": "routellm" })),
                ..LogRow::default()
            };
            if let (Some(t), Some((config, _))) = (tier, &opts.tiers) {
                let usage = Usage {
                    input: text::estimate_tokens(prompt),
                    output: response
                        .as_deref()
                        .map(text::estimate_tokens)
                        .unwrap_or(opts.default_output_tokens),
                    ..Usage::default()
                };
                let tier = &config.tiers[*t];
                row.tier = Some(tier.name.clone());
                row.input_tokens = Some(usage.input);
                row.output_tokens = Some(usage.output);
                row.cost_usd = Some(tier.price.cost(&usage));
                row.meta = Some(json!({
                    "source": "routellm",
                    "estimated": ["input_tokens", "output_tokens", "cost_usd"],
                }));
            }
            row.response = response;
            tally.push(row)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{Price, Tier};

    const CSV: &str = "prompt,weak,strong,weak_response,strong_response\n\
        \"Q1, with comma\",True,False,\"abcdefgh\",\n\
        Q2,False,,,\n";

    fn run(text: &str, opts: &RouteLlmOptions) -> Result<(Vec<LogRow>, ImportReport)> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mmlu_anatomy.csv");
        std::fs::write(&p, text).unwrap();
        let mut rows = Vec::new();
        let report = import_routellm(&[p], opts, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok((rows, report))
    }

    #[test]
    fn maps_outcomes_and_features() {
        let (rows, report) = run(CSV, &RouteLlmOptions::default()).unwrap();
        assert_eq!(
            (report.records, report.rows, report.missing_outcomes),
            (2, 3, 1)
        );
        assert_eq!(report.prompts, 2);
        assert_eq!(rows[0].prompt.as_deref(), Some("Q1, with comma"));
        assert_eq!((rows[0].score, rows[1].score), (Some(1.0), Some(0.0)));
        assert_eq!(rows[0].response.as_deref(), Some("abcdefgh"));
        assert_eq!(rows[1].response, None);
        assert_eq!(rows[0].feature.as_deref(), Some("mmlu/anatomy"));
        assert_eq!(rows[0].cost_usd, None);
        assert_eq!(feature_of(Path::new("x/gsm8k_responses.csv")), "gsm8k");
    }

    #[test]
    fn prices_from_tiers() {
        let mut weak = Tier::new("weak", "weak");
        weak.price = Price {
            input: 1.0,
            output: 2.0,
            ..Price::default()
        };
        let config = TierConfig::new(vec![weak, Tier::new("strong", "strong")]).unwrap();
        let opts = RouteLlmOptions {
            tiers: Some((config.clone(), "t.toml".into())),
            default_output_tokens: 5,
        };
        let (rows, _) = run(CSV, &opts).unwrap();
        // "Q1, with comma" = 14 chars → 4 tokens; "abcdefgh" → 2 tokens.
        assert_eq!(
            (rows[0].input_tokens, rows[0].output_tokens),
            (Some(4), Some(2))
        );
        assert!((rows[0].cost_usd.unwrap() - (4.0 + 4.0) / 1e6).abs() < 1e-15);
        assert_eq!(rows[2].output_tokens, Some(5), "no response: the default");
        assert_eq!(rows[0].tier.as_deref(), Some("weak"));
        let only_weak = TierConfig::new(vec![config.tiers[0].clone()]).unwrap();
        let opts = RouteLlmOptions {
            tiers: Some((only_weak, "t.toml".into())),
            ..opts
        };
        let e = run(CSV, &opts).unwrap_err().to_string();
        assert!(
            e.contains("mmlu_anatomy.csv:1: field `strong`") && e.contains("t.toml"),
            "{e}"
        );
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let e = run(
            &CSV.replace("Q2,False", "Q2,maybe"),
            &RouteLlmOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("mmlu_anatomy.csv:3: field `weak`: expected True or False"),
            "{e}"
        );
        // CRLF line ends and a quoted prompt over two lines: physical line numbers.
        let crlf = CSV
            .replace("Q1, with comma", "Q1,\r\nwith comma")
            .replace('\n', "\r\n");
        let e = run(
            &crlf.replace("Q2,False", "Q2,maybe"),
            &RouteLlmOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("mmlu_anatomy.csv:4: field `weak`"), "{e}");
        let e = run("prompt,weak\n", &RouteLlmOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no usable rows"), "{e}");
        let e = run("question,weak\nq,True\n", &RouteLlmOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1: field `prompt`"), "{e}");
        let bytes = b"prompt,weak\nq\xff,True\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, bytes).unwrap();
        let e = import_routellm(&[p], &RouteLlmOptions::default(), &mut |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv:2: field `prompt`"), "{e}");
    }
}
