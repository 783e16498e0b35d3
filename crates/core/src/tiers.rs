//! The tier config (TOML): an ordered list of tiers, cheapest first, each with its model(s),
//! provider, prices per million tokens, output caps and pass mark.
//!
//! ```toml
//! [[tier]]
//! name = "small"
//! model = "gpt-4o-mini"              # the model the client calls
//! models = ["gpt-4o-mini-2024-07-18"] # other logged model names that count as this tier
//! provider = "openai"                # openai | anthropic | openai-compatible (needs base_url)
//! max_tokens = 1024
//! stop = ["\n\nUser:"]
//! pass_mark = 0.5                    # score ≥ pass_mark counts as a pass
//! price = { input = 0.15, output = 0.60, cache_read = 0.075 }   # USD per million tokens
//! ```
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::log::LogRow;

/// Which wire API a tier speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// OpenAI Chat Completions.
    #[default]
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// Any OpenAI-compatible server at `base_url`.
    OpenaiCompatible,
}

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached input tokens.
    #[serde(default)]
    pub input: f64,
    /// Output tokens.
    #[serde(default)]
    pub output: f64,
    /// Input tokens read from the prompt cache (default: the input price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Input tokens written to the prompt cache (default: the input price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

/// Token counts of one call, in the log format's convention: `input` counts every input token,
/// cached ones included; `cache_read` and `cache_write` are the parts of it served from or
/// written to the prompt cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Input tokens read from the cache.
    pub cache_read: u64,
    /// Input tokens written to the cache.
    pub cache_write: u64,
}

impl Usage {
    /// The usage a log row records, when it records both input and output tokens.
    pub fn of_row(row: &LogRow) -> Option<Usage> {
        Some(Usage {
            input: row.input_tokens?,
            output: row.output_tokens?,
            cache_read: row.cache_read_tokens.unwrap_or(0),
            cache_write: row.cache_write_tokens.unwrap_or(0),
        })
    }
}

impl Price {
    /// Cost in US dollars of a call with this usage. Each input token is billed once: cached
    /// tokens at the cache prices, the rest at the input price.
    pub fn cost(&self, u: &Usage) -> f64 {
        let uncached = u.input.saturating_sub(u.cache_read + u.cache_write);
        (uncached as f64 * self.input
            + u.cache_read as f64 * self.cache_read.unwrap_or(self.input)
            + u.cache_write as f64 * self.cache_write.unwrap_or(self.input)
            + u.output as f64 * self.output)
            / 1e6
    }

    /// True when every price is zero (no prices configured).
    pub fn is_zero(&self) -> bool {
        self.input == 0.0 && self.output == 0.0
    }
}

/// One tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Unique name.
    pub name: String,
    /// The model the client calls for this tier.
    pub model: String,
    /// Other logged model names that count as this tier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Wire API.
    #[serde(default)]
    pub provider: Provider,
    /// Base URL (required for `openai-compatible`; overrides the default for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Environment variable holding the API key (default: `OPENAI_API_KEY` or
    /// `ANTHROPIC_API_KEY` by provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Prices per million tokens.
    #[serde(default)]
    pub price: Price,
    /// Output cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// A `score` at or above this counts as a pass.
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
}

fn default_pass_mark() -> f64 {
    0.5
}

impl Tier {
    /// A tier with default settings.
    pub fn new(name: impl Into<String>, model: impl Into<String>) -> Self {
        Tier {
            name: name.into(),
            model: model.into(),
            models: Vec::new(),
            provider: Provider::Openai,
            base_url: None,
            api_key_env: None,
            price: Price::default(),
            max_tokens: None,
            stop: Vec::new(),
            pass_mark: default_pass_mark(),
        }
    }

    /// Whether a logged model name belongs to this tier.
    pub fn serves(&self, model: &str) -> bool {
        self.model == model || self.models.iter().any(|m| m == model)
    }

    /// The environment variable that holds this tier's API key.
    pub fn api_key_var(&self) -> String {
        self.api_key_env
            .clone()
            .unwrap_or_else(|| match self.provider {
                Provider::Anthropic => "ANTHROPIC_API_KEY".into(),
                _ => "OPENAI_API_KEY".into(),
            })
    }
}

/// The ordered tiers, cheapest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// The tiers.
    #[serde(rename = "tier", default)]
    pub tiers: Vec<Tier>,
}

impl TierConfig {
    /// Read and validate a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Parse and validate TOML text; `file` names the source in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self> {
        let config: TierConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            Error::Config {
                file: match line {
                    Some(l) => format!("{file}:{l}"),
                    None => file.to_string(),
                },
                key: toml_key(&e),
                reason: e.message().to_string(),
            }
        })?;
        config.validate(file)?;
        Ok(config)
    }

    /// A config built in code (validated).
    pub fn new(tiers: Vec<Tier>) -> Result<Self> {
        let config = TierConfig { tiers };
        config.validate("(in code)")?;
        Ok(config)
    }

    /// Check the rules: at least one tier, unique names, each model in one tier, prices ≥ 0,
    /// pass marks in [0, 1], a `base_url` for `openai-compatible`.
    pub fn validate(&self, file: &str) -> Result<()> {
        let bad = |key: String, reason: String| Error::Config {
            file: file.to_string(),
            key,
            reason,
        };
        if self.tiers.is_empty() {
            return Err(bad(
                "tier".into(),
                "at least one [[tier]] is required".into(),
            ));
        }
        for (i, t) in self.tiers.iter().enumerate() {
            let k = |f: &str| format!("tier[{i}].{f}");
            if t.name.trim().is_empty() {
                return Err(bad(k("name"), "must not be empty".into()));
            }
            if t.model.trim().is_empty() {
                return Err(bad(k("model"), "must not be empty".into()));
            }
            if let Some(j) = self.tiers[..i].iter().position(|o| o.name == t.name) {
                return Err(bad(
                    k("name"),
                    format!("`{}` is also the name of tier[{j}]", t.name),
                ));
            }
            for m in std::iter::once(&t.model).chain(&t.models) {
                if let Some(j) = self.tiers[..i].iter().position(|o| o.serves(m)) {
                    return Err(bad(
                        k("model"),
                        format!(
                            "model `{m}` already belongs to tier[{j}] `{}`",
                            self.tiers[j].name
                        ),
                    ));
                }
            }
            let prices = [
                ("price.input", Some(t.price.input)),
                ("price.output", Some(t.price.output)),
                ("price.cache_read", t.price.cache_read),
                ("price.cache_write", t.price.cache_write),
            ];
            for (key, p) in prices {
                if let Some(p) = p {
                    if !(p >= 0.0 && p.is_finite()) {
                        return Err(bad(k(key), format!("must be a number ≥ 0, got {p}")));
                    }
                }
            }
            if !(0.0..=1.0).contains(&t.pass_mark) {
                return Err(bad(
                    k("pass_mark"),
                    format!("must be in [0, 1], got {}", t.pass_mark),
                ));
            }
            if t.max_tokens == Some(0) {
                return Err(bad(k("max_tokens"), "must be at least 1".into()));
            }
            if t.provider == Provider::OpenaiCompatible && t.base_url.is_none() {
                return Err(bad(
                    k("base_url"),
                    "required for provider `openai-compatible`".into(),
                ));
            }
        }
        Ok(())
    }

    /// The index of the tier a logged model belongs to.
    pub fn tier_of_model(&self, model: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.serves(model))
    }

    /// The index of a tier by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.name == name)
    }

    /// Tier names, in order.
    pub fn names(&self) -> Vec<String> {
        self.tiers.iter().map(|t| t.name.clone()).collect()
    }

    /// The tier of a log row: by its model, else by its `tier` name.
    pub fn tier_of_row(&self, row: &LogRow) -> Option<usize> {
        self.tier_of_model(&row.model)
            .or_else(|| row.tier.as_deref().and_then(|t| self.index(t)))
    }

    /// A row's cost: `cost_usd` when logged, else its tokens at tier `tier`'s prices (when that
    /// tier has prices), else unknown.
    pub fn row_cost(&self, row: &LogRow, tier: Option<usize>) -> Option<f64> {
        row.cost_usd.or_else(|| {
            let price = &self.tiers.get(tier?)?.price;
            let usage = Usage::of_row(row)?;
            (!price.is_zero()).then(|| price.cost(&usage))
        })
    }

    /// One tier per logged model (named after it, no prices), cheapest first by the mean logged
    /// `cost_usd` of its rows; models without any cost come last; ties go by name. For dashboards
    /// and evals over logs that come without a tier config.
    pub fn per_model(rows: &[LogRow]) -> Result<Self> {
        let mut cost: std::collections::BTreeMap<&str, (f64, usize)> = Default::default();
        for row in rows {
            let e = cost.entry(row.model.as_str()).or_default();
            if let Some(c) = row.cost_usd {
                *e = (e.0 + c, e.1 + 1);
            }
        }
        let mut models: Vec<(&str, f64)> = cost
            .into_iter()
            .map(|(m, (sum, n))| (m, if n > 0 { sum / n as f64 } else { f64::INFINITY }))
            .collect();
        models.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        let tiers = models.into_iter().map(|(m, _)| Tier::new(m, m)).collect();
        let config = TierConfig { tiers };
        config.validate("(one tier per model)")?;
        Ok(config)
    }

    /// Whether any tier has a non-zero price.
    pub fn has_prices(&self) -> bool {
        self.tiers.iter().any(|t| !t.price.is_zero())
    }
}

fn toml_key(e: &toml::de::Error) -> String {
    // toml's messages name unknown keys (`unknown field `x``) but not the path; keep it short.
    let msg = e.message();
    if let Some(start) = msg.find('`') {
        if let Some(len) = msg[start + 1..].find('`') {
            return msg[start + 1..start + 1 + len].to_string();
        }
    }
    "(syntax)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[[tier]]
name = "small"
model = "s"
price = { input = 1.0, output = 2.0, cache_read = 0.1 }
[[tier]]
name = "large"
model = "l"
models = ["l-old"]
provider = "anthropic"
"#;

    #[test]
    fn parses_and_maps_models() {
        let c = TierConfig::from_toml(OK, "t.toml").unwrap();
        assert_eq!(c.names(), ["small", "large"]);
        assert_eq!(c.tier_of_model("l-old"), Some(1));
        assert_eq!(c.tiers[1].api_key_var(), "ANTHROPIC_API_KEY");
        assert_eq!(c.tiers[0].pass_mark, 0.5);
    }

    #[test]
    fn per_model_orders_by_mean_cost() {
        let row = |m: &str, c: Option<f64>| LogRow {
            cost_usd: c,
            ..LogRow::new("p", m)
        };
        let rows = [
            row("big", Some(3.0)),
            row("nocost", None),
            row("small", Some(0.5)),
            row("big", Some(1.0)),
            row("small", Some(1.5)),
            row("mid", Some(1.5)),
        ];
        let c = TierConfig::per_model(&rows).unwrap();
        assert_eq!(c.names(), ["small", "mid", "big", "nocost"]);
        assert!(TierConfig::per_model(&[]).is_err());
        let mut r = LogRow::new("p", "x");
        r.tier = Some("mid".into());
        r.input_tokens = Some(10);
        r.output_tokens = Some(1);
        assert_eq!(c.tier_of_row(&r), Some(1));
        assert_eq!(c.row_cost(&r, Some(1)), None, "no prices, no cost");
    }

    #[test]
    fn cost_bills_each_token_once() {
        let p = Price {
            input: 3.0,
            output: 15.0,
            cache_read: Some(0.3),
            cache_write: Some(3.75),
        };
        let u = Usage {
            input: 1_000_000,
            output: 1_000_000,
            cache_read: 400_000,
            cache_write: 100_000,
        };
        let expect = 0.5 * 3.0 + 0.4 * 0.3 + 0.1 * 3.75 + 15.0;
        assert!((p.cost(&u) - expect).abs() < 1e-12);
    }

    fn err(text: &str) -> String {
        TierConfig::from_toml(text, "t.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_file_and_key() {
        assert!(err("").contains("t.toml: key `tier`"));
        let dup = format!("{OK}\n[[tier]]\nname = \"small\"\nmodel = \"x\"\n");
        assert!(err(&dup).contains("tier[2].name"), "{}", err(&dup));
        let neg = OK.replace("input = 1.0", "input = -1.0");
        assert!(err(&neg).contains("tier[0].price.input"), "{}", err(&neg));
        let unknown = OK.replace("name = \"small\"", "name = \"small\"\ncolour = 1");
        let e = err(&unknown);
        assert!(e.contains("t.toml:") && e.contains("colour"), "{e}");
        let compat = OK.replace(
            "provider = \"anthropic\"",
            "provider = \"openai-compatible\"",
        );
        assert!(err(&compat).contains("tier[1].base_url"));
        let model = format!("{OK}\n[[tier]]\nname = \"x\"\nmodel = \"l-old\"\n");
        assert!(err(&model).contains("already belongs"));
    }
}
