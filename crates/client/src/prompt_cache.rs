//! Anthropic prompt caching: `cache_control: {"type": "ephemeral"}` breakpoints after the stable
//! prefix. Anthropic caches the prefix in the order tools → system → messages, so the candidate
//! breakpoints are the last tool definition and the last system block. A breakpoint is placed only
//! when the prefix up to it reaches the model's minimum cacheable length (shorter prefixes are
//! never cached and would only add noise), and never more than four in a body, counting any the
//! caller put in the messages. Nothing variable sits before a breakpoint: the messages follow them.
use serde_json::{json, Value};
use tierwise_core::text::estimate_tokens;

/// Anthropic's limit on breakpoints per request.
pub const MAX_BREAKPOINTS: usize = 4;

/// The minimum cacheable prefix for a model: 2,048 tokens for Haiku models, else 1,024.
pub fn min_cacheable_tokens(model: &str) -> u64 {
    if model.to_ascii_lowercase().contains("haiku") {
        2048
    } else {
        1024
    }
}

fn count_breakpoints(v: &Value) -> usize {
    match v {
        Value::Object(o) => {
            o.contains_key("cache_control") as usize
                + o.values().map(count_breakpoints).sum::<usize>()
        }
        Value::Array(a) => a.iter().map(count_breakpoints).sum(),
        _ => 0,
    }
}

fn tokens_of(v: Option<&Value>) -> u64 {
    match v.and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .map(|item| match item.get("text").and_then(Value::as_str) {
                Some(t) => estimate_tokens(t),
                None => estimate_tokens(&item.to_string()),
            })
            .sum(),
        None => 0,
    }
}

fn mark_last(v: Option<&mut Value>) -> bool {
    match v.and_then(Value::as_array_mut).and_then(|a| a.last_mut()) {
        Some(Value::Object(o)) if !o.contains_key("cache_control") => {
            o.insert("cache_control".into(), json!({"type": "ephemeral"}));
            true
        }
        _ => false,
    }
}

/// Add breakpoints to an Anthropic Messages body; returns how many were added.
pub fn apply(body: &mut Value, model: &str) -> usize {
    let min = min_cacheable_tokens(model);
    let mut room = MAX_BREAKPOINTS.saturating_sub(count_breakpoints(body));
    let tools = tokens_of(body.get("tools"));
    let system = tokens_of(body.get("system"));
    let mut added = 0;
    // After the tools: survives a change of system prompt.
    if room > 0 && tools >= min && mark_last(body.get_mut("tools")) {
        added += 1;
        room -= 1;
    }
    // After the system prompt: covers tools + system.
    if room > 0 && system > 0 && tools + system >= min && mark_last(body.get_mut("system")) {
        added += 1;
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_by_model() {
        assert_eq!(min_cacheable_tokens("claude-3-5-haiku-latest"), 2048);
        assert_eq!(min_cacheable_tokens("claude-sonnet-4-20250514"), 1024);
    }

    #[test]
    fn respects_the_four_breakpoint_limit() {
        let cc = json!({"type": "ephemeral"});
        let long = "x".repeat(8000);
        let mut b = json!({
            "system": [{"type": "text", "text": long}],
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "a", "cache_control": cc},
                {"type": "text", "text": "b", "cache_control": cc},
                {"type": "text", "text": "c", "cache_control": cc},
                {"type": "text", "text": "d", "cache_control": cc}]}]
        });
        assert_eq!(apply(&mut b, "claude-sonnet-4"), 0);
        assert!(b["system"][0].get("cache_control").is_none());
    }
}
