//! RouterBench CSV (Hu et al. 2024, as split by the RouterDC authors) → log rows.
//!
//! Columns: `sample_id`, `prompt` (a Python list literal of strings), `eval_name`, one score
//! column per model, `MODEL|model_response` (a Python list literal) and `MODEL|total_cost` (USD).
//! Model columns are the header names without a `|` other than the fixed ones.
//!
//! Mapping:
//! - one row per (prompt, model) whose score cell is non-empty; an empty score is a missing
//!   outcome and writes no row (counted in [`ImportReport::missing_outcomes`]);
//! - `prompt` = the list's strings joined with `"\n"`. Almost every prompt is a one-element list;
//!   joining keeps the text of multi-part prompts in order and unchanged (counted in the report's
//!   notes);
//! - `response` = the response list joined with `"\n"`; `cost_usd` = `MODEL|total_cost`;
//!   `feature` = `eval_name`; `meta.source` = `"routerbench"`;
//! - `id` = `sample_id#` + 8 hex digits of the SHA-256 of the normalised prompt text.
//!   `sample_id` alone is not unique (some ids repeat with different prompts); the hash keeps
//!   distinct prompts apart and gives every row of one prompt the same id.
use std::path::Path;

use crate::error::{Error, RejectKind, Result};
use crate::import::{distinct_files, parse_cost, pylit, source_meta, CsvFile, ImportReport, Tally};
use crate::log::{LogRow, FORMAT_VERSION};
use crate::text;

const FIXED: [&str; 5] = [
    "",
    "sample_id",
    "prompt",
    "eval_name",
    "oracle_model_to_route_to",
];

/// The id of a RouterBench prompt: `sample_id#` + 8 hex digits of its text's hash.
pub fn routerbench_id(sample_id: &str, text: &str) -> String {
    let h = text::prompt_id(text);
    if sample_id.trim().is_empty() {
        h
    } else {
        format!("{}#{}", sample_id.trim(), &h[1..9])
    }
}

/// Import RouterBench CSV files in order, passing each row to `sink`.
pub fn import_routerbench<P: AsRef<Path>>(
    paths: &[P],
    sink: &mut dyn FnMut(LogRow) -> Result<()>,
) -> Result<ImportReport> {
    distinct_files(paths)?;
    let mut tally = Tally::new(sink);
    let mut multi_part = 0usize;
    for path in paths {
        multi_part += import_file(path.as_ref(), &mut tally)?;
        tally.report.files += 1;
    }
    if multi_part > 0 {
        tally.report.notes.push(format!(
            "{multi_part} prompt(s) were lists of several strings; their parts were joined with a newline"
        ));
    }
    if tally.report.rows == 0 {
        return Err(Error::Empty {
            file: names(paths),
            reason: "no (prompt, model) cell with a score".into(),
        });
    }
    Ok(tally.finish())
}

fn names<P: AsRef<Path>>(paths: &[P]) -> String {
    let v: Vec<String> = paths
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect();
    if v.is_empty() {
        "(no files)".into()
    } else {
        v.join(", ")
    }
}

struct ModelCols {
    name: String,
    score: usize,
    response: Option<usize>,
    cost: Option<usize>,
}

/// Returns how many multi-part prompts the file held.
fn import_file(path: &Path, tally: &mut Tally) -> Result<usize> {
    let mut csv = CsvFile::open(path)?;
    let sample_col = csv.column("sample_id")?;
    let prompt_col = csv.column("prompt")?;
    let eval_col = csv.headers.iter().position(|h| h == "eval_name");
    let find = |h: &str| csv.headers.iter().position(|x| x == h);
    let models: Vec<ModelCols> = csv
        .headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.contains('|') && !FIXED.contains(&h.as_str()))
        .map(|(i, h)| ModelCols {
            name: h.clone(),
            score: i,
            response: find(&format!("{h}|model_response")),
            cost: find(&format!("{h}|total_cost")),
        })
        .collect();
    if models.is_empty() {
        return Err(csv.bad(1, "(header)", "no model score columns".into()));
    }
    let mut multi_part = 0;
    while let Some((line, rec)) = csv.next()? {
        tally.report.records += 1;
        let parts = pylit::parse_str_list(&rec[prompt_col])
            .map_err(|e| csv.bad(line, "prompt", e.to_string()))?;
        if parts.len() > 1 {
            multi_part += 1;
        }
        let prompt = parts.join("\n");
        if prompt.trim().is_empty() {
            return Err(csv.empty_prompt(line));
        }
        let id = routerbench_id(&rec[sample_col], &prompt);
        let feature = eval_col
            .map(|c| rec[c].trim().to_string())
            .filter(|f| !f.is_empty());
        for m in &models {
            let cell = rec[m.score].trim();
            if cell.is_empty() {
                tally.report.missing_outcomes += 1;
                continue;
            }
            let score = match cell.parse::<f64>() {
                Ok(s) if (0.0..=1.0).contains(&s) => s,
                Ok(s) => {
                    return Err(Error::InvalidRow {
                        file: csv.name.clone(),
                        line,
                        field: m.name.clone(),
                        reason: format!("score must be in [0, 1], got {s}"),
                        kind: RejectKind::ScoreOutOfRange,
                    })
                }
                Err(_) => {
                    return Err(csv.bad(line, &m.name, format!("expected a score, got `{cell}`")))
                }
            };
            let cost = match m.cost {
                Some(c) => parse_cost(&csv, line, &csv.headers[c], &rec[c])?,
                None => None,
            };
            let response = match m.response.map(|c| (c, rec[c].trim())) {
                Some((_, "")) | None => None,
                Some((c, cell)) => Some(
                    pylit::parse_str_list(cell)
                        .map_err(|e| csv.bad(line, &csv.headers[c], e.to_string()))?
                        .join("\n"),
                ),
            };
            tally.push(LogRow {
                v: Some(FORMAT_VERSION),
                id: Some(id.clone()),
                prompt: Some(prompt.clone()),
                model: m.name.clone(),
                feature: feature.clone(),
                cost_usd: cost,
                score: Some(score),
                response,
                meta: Some(source_meta("routerbench")),
                ..LogRow::default()
            })?;
        }
    }
    Ok(multi_part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const CSV: &str = "\
,sample_id,prompt,eval_name,m1,m2,m1|model_response,m2|model_response,m1|total_cost,m2|total_cost,oracle_model_to_route_to
0,s.1,['What is 2+2?'],math,1.0,,['4'],,0.001,,m1
1,s.1,\"['Say \"\"hi\"\"', 'twice']\",chat,0.0,1.0,['no'],\"['hi\\nhi']\",0.002,0.02,m2
";

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        p
    }

    fn run(text: &str) -> Result<(Vec<LogRow>, ImportReport)> {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "rb.csv", text);
        let mut rows = Vec::new();
        let report = import_routerbench(&[p], &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok((rows, report))
    }

    #[test]
    fn maps_columns_and_skips_blank_scores() {
        let (rows, report) = run(CSV).unwrap();
        assert_eq!(report.records, 2);
        assert_eq!(report.rows, 3);
        assert_eq!(report.missing_outcomes, 1);
        assert_eq!(
            report.prompts, 2,
            "same sample_id, different prompts: two ids"
        );
        assert_eq!(report.per_model["m1"], 2);
        assert_eq!(rows[0].prompt.as_deref(), Some("What is 2+2?"));
        assert_eq!(rows[0].cost_usd, Some(0.001));
        assert_eq!(rows[0].feature.as_deref(), Some("math"));
        assert_eq!(rows[1].prompt.as_deref(), Some("Say \"hi\"\ntwice"));
        assert_eq!(rows[2].response.as_deref(), Some("hi\nhi"));
        assert_eq!(rows[1].id, rows[2].id);
        assert_ne!(rows[0].id, rows[1].id);
        assert!(rows[0].id.as_deref().unwrap().starts_with("s.1#"));
        assert_eq!(report.notes.len(), 1);
    }

    #[test]
    fn counts_rows_without_cost() {
        let (_, report) = run(CSV).unwrap();
        assert_eq!(report.rows_without_cost, 0);
        let (rows, report) = run(&CSV.replace(",0.001,", ",,")).unwrap();
        assert_eq!((rows[0].cost_usd, report.rows_without_cost), (None, 1));
        let no_cost_cols = CSV.replace("m1|total_cost,m2|total_cost", "m1|cost,m2|cost");
        let (_, report) = run(&no_cost_cols).unwrap();
        assert_eq!(report.rows_without_cost, 3);
        assert!(
            report.summary().contains("rows without a cost: 3"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn counts_repeated_rows_and_refuses_a_file_twice() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.csv", CSV);
        let b = write(dir.path(), "b.csv", CSV);
        let report = import_routerbench(&[&a, &b], &mut |_| Ok(())).unwrap();
        assert_eq!((report.rows, report.prompts), (6, 2));
        assert_eq!((report.repeated_rows, report.repeated_across_files), (3, 3));
        assert!(
            report
                .summary()
                .contains("repeated (prompt, model) rows: 3 (3 repeat"),
            "{}",
            report.summary()
        );
        let first = CSV.lines().nth(1).unwrap();
        let c = write(dir.path(), "c.csv", &format!("{CSV}{first}\n"));
        let report = import_routerbench(&[&c], &mut |_| Ok(())).unwrap();
        assert_eq!((report.repeated_rows, report.repeated_across_files), (1, 0));
        let also_a = dir.path().join(".").join("a.csv");
        let e = import_routerbench(&[&a, &also_a], &mut |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.csv: the same file is given twice"), "{e}");
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let e = run(&CSV.replace(",1.0,['no']", ",1.5,['no']"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rb.csv:3: field `m2`") && e.contains("[0, 1]"),
            "{e}"
        );
        let e = run(&CSV.replace("0.001", "-1")).unwrap_err().to_string();
        assert!(e.contains("rb.csv:2: field `m1|total_cost`"), "{e}");
        let e = run(&CSV.replace("['What", "['What'x"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rb.csv:2: field `prompt`: not a Python list"),
            "{e}"
        );
        let e = run(&CSV.replace("m1\n", "m1,extra\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rb.csv:2: field `(csv)`"), "{e}");
        let e = run(&CSV.replace(",['4']", ",['4'"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rb.csv:2: field `m1|model_response`"), "{e}");
        // CRLF line ends: the same physical lines (grep -n), not one too low.
        let crlf = CSV.replace('\n', "\r\n");
        let e = run(&crlf.replace(",1.0,['no']", ",abc,['no']"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rb.csv:3: field `m2`"), "{e}");
        let e = run(&crlf.replace("m1\r\n", "m1,extra\r\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rb.csv:2: field `(csv)`"), "{e}");
        let header = CSV.lines().next().unwrap();
        let e = run(header).unwrap_err().to_string();
        assert!(e.contains("no usable rows"), "{e}");
    }
}
