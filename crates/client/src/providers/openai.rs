//! OpenAI Chat Completions (and OpenAI-compatible servers).
//!
//! Usage: `prompt_tokens` already INCLUDES `prompt_tokens_details.cached_tokens`, so
//! `input = prompt_tokens` and `cache_read = cached_tokens` (OpenAI reports no cache writes).
use serde_json::{json, Map, Value};
use tierwise_core::Usage;

use super::{Parsed, Prepared};

/// OpenAI accepts at most four stop sequences.
const MAX_STOP: usize = 4;

/// The request body. `official` selects `max_completion_tokens` (OpenAI's current name, needed
/// by reasoning models) over `max_tokens` (what compatible servers understand).
pub fn body(p: &Prepared<'_>, official: bool) -> Result<Value, String> {
    let mut b = Map::new();
    b.insert("model".into(), p.model.into());
    b.insert(
        "messages".into(),
        serde_json::to_value(p.messages).map_err(|e| e.to_string())?,
    );
    let cap = if official {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    b.insert(cap.into(), p.max_tokens.into());
    if !p.stop.is_empty() {
        if p.stop.len() > MAX_STOP {
            return Err(format!(
                "OpenAI accepts at most {MAX_STOP} stop sequences, this call has {} (tier's and request's)",
                p.stop.len()
            ));
        }
        b.insert("stop".into(), json!(p.stop));
    }
    if let Some(t) = p.temperature {
        b.insert("temperature".into(), super::temperature(t));
    }
    if !p.tools.is_empty() {
        let tools: Vec<Value> = p
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}})
            })
            .collect();
        b.insert("tools".into(), tools.into());
    }
    Ok(Value::Object(b))
}

/// Parse a response body.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let msg = v
        .pointer("/choices/0/message")
        .ok_or("no `choices[0].message` in the body")?;
    let text = match msg.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => return Err(format!("`choices[0].message.content` is {other}")),
    };
    let u = v.get("usage").ok_or("no `usage` in the body")?;
    let n = |path: &str| u.pointer(path).and_then(Value::as_u64);
    let input = n("/prompt_tokens").ok_or("no `usage.prompt_tokens`")?;
    let output = n("/completion_tokens").ok_or("no `usage.completion_tokens`")?;
    let cache_read = n("/prompt_tokens_details/cached_tokens").unwrap_or(0);
    if cache_read > input {
        return Err(format!(
            "usage.prompt_tokens_details.cached_tokens ({cache_read}) exceeds prompt_tokens ({input})"
        ));
    }
    Ok(Parsed {
        text,
        usage: Usage {
            input,
            output,
            cache_read,
            cache_write: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tierwise_core::{Message, Price};

    /// A Chat Completions response as OpenAI returns it (gpt-4o-mini, prompt cache hit).
    const RECORDED: &str = r#"{
  "id": "chatcmpl-AbC123",
  "object": "chat.completion",
  "created": 1731000000,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris.", "refusal": null},
               "logprobs": null, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "system_fingerprint": "fp_0ba0d124f1"
}"#;

    #[test]
    fn cached_tokens_are_part_of_prompt_tokens() {
        let p = parse(RECORDED.as_bytes()).unwrap();
        assert_eq!(p.text, "Paris.");
        assert_eq!(
            p.usage,
            Usage {
                input: 2006,
                output: 300,
                cache_read: 1920,
                cache_write: 0
            }
        );
        // gpt-4o-mini: $0.15 in, $0.075 cached, $0.60 out per million.
        let price = Price {
            input: 0.15,
            output: 0.60,
            cache_read: Some(0.075),
            cache_write: None,
        };
        let expect = (86.0 * 0.15 + 1920.0 * 0.075 + 300.0 * 0.60) / 1e6;
        assert!((price.cost(&p.usage) - expect).abs() < 1e-15);
    }

    #[test]
    fn body_shape_and_limits() {
        let msgs = [Message::new("system", "s"), Message::new("user", "u")];
        let stop = vec!["a".to_string()];
        let p = Prepared {
            model: "m",
            messages: &msgs,
            tools: &[],
            max_tokens: 7,
            stop: &stop,
            temperature: Some(0.0),
        };
        let b = body(&p, true).unwrap();
        assert_eq!(b["max_completion_tokens"], 7);
        assert_eq!(b["messages"][1]["content"], "u");
        assert_eq!(body(&p, false).unwrap()["max_tokens"], 7);
        let five: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let p5 = Prepared { stop: &five, ..p };
        assert!(body(&p5, true).unwrap_err().contains("at most 4"));
        assert!(parse(b"{\"choices\": []}").is_err());
        assert!(parse(b"<html>").unwrap_err().contains("not JSON"));
    }
}
