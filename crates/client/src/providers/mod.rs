//! Provider wire formats (OpenAI Chat Completions, Anthropic Messages) and one HTTP attempt.
//!
//! Each format module turns a [`Prepared`] request into the provider's JSON body and the
//! provider's response body into text plus [`Usage`] in the log convention (all input tokens in
//! `input`, the cached parts in `cache_read` / `cache_write`).
pub mod anthropic;
pub mod openai;

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use tierwise_core::{Message, Provider, Tier, Usage};

use crate::error::scrub;
use crate::request::Tool;

/// A request after routing and output caps, ready to be rendered for a provider.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    /// Model to call.
    pub model: &'a str,
    /// Conversation.
    pub messages: &'a [Message],
    /// Tools.
    pub tools: &'a [Tool],
    /// Output cap.
    pub max_tokens: u32,
    /// Stop sequences (tier's and request's).
    pub stop: &'a [String],
    /// Temperature.
    pub temperature: Option<f32>,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The text.
    pub text: String,
    /// Tokens, in the log convention.
    pub usage: Usage,
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptError {
    /// The provider answered with a non-2xx status.
    Status {
        /// HTTP status.
        status: u16,
        /// The provider's message (scrubbed of the key).
        message: String,
        /// Wait asked for by `retry-after-ms` / `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The attempt hit its timeout.
    Timeout,
    /// Connecting, sending or reading the body failed (reset, truncated body, …).
    Connection(String),
    /// A 2xx answer whose body is not what the wire format promises.
    Invalid(String),
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptError::Status {
                status,
                message,
                retry_after,
            } => {
                write!(f, "HTTP {status}: {message}")?;
                if let Some(d) = retry_after {
                    write!(f, " (retry after {d:?})")?;
                }
                Ok(())
            }
            AttemptError::Timeout => write!(f, "attempt timed out"),
            AttemptError::Connection(m) => write!(f, "connection failed: {m}"),
            AttemptError::Invalid(m) => write!(f, "invalid response: {m}"),
        }
    }
}

/// A temperature as JSON, written as typed (0.7, not 0.699999988079071).
pub fn temperature(t: f32) -> Value {
    let shortest: f64 = t.to_string().parse().unwrap_or(t as f64);
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// The URL a tier's calls go to.
pub fn endpoint(tier: &Tier) -> String {
    let base = tier.base_url.as_deref().map(|b| b.trim_end_matches('/'));
    match tier.provider {
        Provider::Anthropic => format!(
            "{}/v1/messages",
            base.unwrap_or("https://api.anthropic.com")
        ),
        _ => format!(
            "{}/chat/completions",
            base.unwrap_or("https://api.openai.com/v1")
        ),
    }
}

/// Request headers for a tier; the key is marked sensitive so it never shows in `Debug`.
pub fn headers(provider: Provider, key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let secret = |v: String| {
        let mut v = HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""));
        v.set_sensitive(true);
        v
    };
    match provider {
        Provider::Anthropic => {
            h.insert("x-api-key", secret(key.to_string()));
            h.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        }
        _ => {
            h.insert("authorization", secret(format!("Bearer {key}")));
        }
    }
    h
}

/// The JSON body for a tier's provider.
pub fn body(provider: Provider, p: &Prepared<'_>, prompt_caching: bool) -> Result<Value, String> {
    match provider {
        Provider::Anthropic => {
            let mut b = anthropic::body(p)?;
            if prompt_caching {
                crate::prompt_cache::apply(&mut b, p.model);
            }
            Ok(b)
        }
        Provider::Openai => openai::body(p, true),
        Provider::OpenaiCompatible => openai::body(p, false),
    }
}

/// Parse a 2xx body.
pub fn parse(provider: Provider, bytes: &[u8]) -> Result<Parsed, String> {
    match provider {
        Provider::Anthropic => anthropic::parse(bytes),
        _ => openai::parse(bytes),
    }
}

/// The message of an error body (`{"error": {"message": …}}` in both formats), else the body.
pub fn error_message(bytes: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let msg = parsed
        .as_ref()
        .and_then(|v| v.pointer("/error/message").or_else(|| v.get("message")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).chars().take(500).collect());
    if msg.trim().is_empty() {
        "(empty body)".into()
    } else {
        msg
    }
}

/// The wait a response asks for: `retry-after-ms` (milliseconds), else `Retry-After` in
/// seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let v = get("retry-after")?;
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// One HTTP attempt.
pub async fn attempt(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
    provider: Provider,
    timeout: Duration,
    key: &str,
) -> Result<Parsed, AttemptError> {
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            AttemptError::Timeout
        } else {
            AttemptError::Connection(scrub(&error_chain(&e), key))
        }
    };
    let resp = http
        .post(url)
        .headers(headers.clone())
        .header("content-type", "application/json")
        .body(body.to_vec())
        .timeout(timeout)
        .send()
        .await
        .map_err(classify)?;
    let status = resp.status().as_u16();
    let wait = retry_after(resp.headers(), SystemTime::now());
    let bytes = resp.bytes().await.map_err(classify)?;
    if !(200..300).contains(&status) {
        return Err(AttemptError::Status {
            status,
            message: scrub(&error_message(&bytes), key),
            retry_after: wait,
        });
    }
    parse(provider, &bytes).map_err(|m| AttemptError::Invalid(scrub(&m, key)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(10));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(10));
        assert_eq!(
            retry_after(&h(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        // retry-after-ms wins over Retry-After.
        let both = h(&[("retry-after", "7"), ("retry-after-ms", "250")]);
        assert_eq!(retry_after(&both, now), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&h(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&h(&[]), now), None);
    }

    #[test]
    fn endpoints_and_error_messages() {
        let mut t = Tier::new("t", "m");
        assert_eq!(endpoint(&t), "https://api.openai.com/v1/chat/completions");
        t.provider = Provider::Anthropic;
        assert_eq!(endpoint(&t), "https://api.anthropic.com/v1/messages");
        t.base_url = Some("http://127.0.0.1:9/".into());
        assert_eq!(endpoint(&t), "http://127.0.0.1:9/v1/messages");
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_message(anthropic), "Overloaded");
        assert_eq!(error_message(b""), "(empty body)");
        assert_eq!(temperature(0.7).to_string(), "0.7");
        let hdr = headers(Provider::Openai, "sk-x");
        assert!(!format!("{hdr:?}").contains("sk-x"));
    }
}
