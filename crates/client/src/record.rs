//! The log line of one call, in the tierwise log format (`tierwise_core::LogRow`).
//!
//! Standard fields carry feature, customer, tier, model, tokens (all input tokens in
//! `input_tokens`, cache parts in `cache_read_tokens` / `cache_write_tokens`), cost, latency,
//! status, response and score. Three extra top-level fields, which core's reader keeps in
//! `extra`: `cache` (`exact` | `prompt` | `none`), `attempts` and `retries`; failed calls add
//! `error` (a kind such as `provider_unavailable`) and `error_message`.
use std::time::Duration;

use serde_json::Value;
use tierwise_core::log::FORMAT_VERSION;
use tierwise_core::{LogRow, Status, Tier};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::Error;
use crate::request::{CacheOutcome, ChatRequest, Reply};

/// Build the row of a call that ended in `outcome`.
pub fn row(
    req: &ChatRequest,
    tier: &Tier,
    outcome: Result<&Reply, &Error>,
    attempts: u32,
    latency: Duration,
) -> LogRow {
    let mut r = LogRow {
        v: Some(FORMAT_VERSION),
        ts: OffsetDateTime::now_utc().format(&Rfc3339).ok(),
        messages: Some(req.messages.clone()),
        model: tier.model.clone(),
        feature: req.feature.clone(),
        customer: req.customer.clone(),
        tier: Some(tier.name.clone()),
        latency_ms: Some(latency.as_secs_f64() * 1e3),
        ..LogRow::default()
    };
    let cache = match outcome {
        Ok(reply) => {
            if reply.cache != CacheOutcome::Exact {
                r.input_tokens = Some(reply.usage.input);
                r.output_tokens = Some(reply.usage.output);
                r.cache_read_tokens = Some(reply.usage.cache_read);
                r.cache_write_tokens = Some(reply.usage.cache_write);
            }
            r.cost_usd = Some(reply.cost_usd);
            r.score = reply.score;
            r.status = Some(Status::Ok);
            r.response = Some(reply.text.clone());
            reply.cache
        }
        Err(e) => {
            r.status = Some(Status::Error);
            r.extra.insert("error".into(), e.kind().into());
            r.extra.insert("error_message".into(), e.to_string().into());
            CacheOutcome::None
        }
    };
    r.extra.insert("cache".into(), cache.as_str().into());
    r.extra.insert("attempts".into(), Value::from(attempts));
    r.extra
        .insert("retries".into(), Value::from(attempts.saturating_sub(1)));
    r
}
