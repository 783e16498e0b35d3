//! Anthropic Messages.
//!
//! Usage: `input_tokens` EXCLUDES `cache_creation_input_tokens` and `cache_read_input_tokens`,
//! so all input = the sum of the three; `cache_read` and `cache_write` are the two cache parts.
use serde_json::{json, Map, Value};
use tierwise_core::Usage;

use super::{Parsed, Prepared};

/// The request body: system and developer messages become the `system` blocks (the cacheable
/// prefix, with the tools); user and assistant messages keep their order.
pub fn body(p: &Prepared<'_>) -> Result<Value, String> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for (i, m) in p.messages.iter().enumerate() {
        match m.role.as_str() {
            "system" | "developer" => {
                let text = m.text();
                if !text.is_empty() {
                    system.push(json!({"type": "text", "text": text}));
                }
            }
            "user" | "assistant" => {
                let content = match &m.content {
                    Value::String(s) => Value::String(s.clone()),
                    Value::Array(parts) => Value::Array(
                        parts
                            .iter()
                            .map(|part| match part.get("type").and_then(Value::as_str) {
                                Some("text") => Ok(part.clone()),
                                other => Err(format!(
                                    "messages[{i}]: content part type {other:?} is not supported for Anthropic"
                                )),
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    other => return Err(format!("messages[{i}]: content {other} is not text")),
                };
                messages.push(json!({"role": m.role, "content": content}));
            }
            other => {
                return Err(format!(
                    "messages[{i}]: role `{other}` is not supported for Anthropic"
                ))
            }
        }
    }
    let mut b = Map::new();
    b.insert("model".into(), p.model.into());
    b.insert("max_tokens".into(), p.max_tokens.into());
    if !system.is_empty() {
        b.insert("system".into(), system.into());
    }
    b.insert("messages".into(), messages.into());
    if !p.stop.is_empty() {
        b.insert("stop_sequences".into(), json!(p.stop));
    }
    if let Some(t) = p.temperature {
        b.insert("temperature".into(), super::temperature(t));
    }
    if !p.tools.is_empty() {
        let tools: Vec<Value> = p
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        b.insert("tools".into(), tools.into());
    }
    Ok(Value::Object(b))
}

/// Parse a response body.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let content = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or("no `content` array in the body")?;
    let text = content
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("");
    let u = v.get("usage").ok_or("no `usage` in the body")?;
    let n = |k: &str| u.get(k).and_then(Value::as_u64);
    let uncached = n("input_tokens").ok_or("no `usage.input_tokens`")?;
    let output = n("output_tokens").ok_or("no `usage.output_tokens`")?;
    let cache_write = n("cache_creation_input_tokens").unwrap_or(0);
    let cache_read = n("cache_read_input_tokens").unwrap_or(0);
    Ok(Parsed {
        text,
        usage: Usage {
            input: uncached + cache_write + cache_read,
            output,
            cache_read,
            cache_write,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tierwise_core::{Message, Price};

    /// A Messages response as Anthropic returns it (cache read and write in one call).
    const RECORDED: &str = r#"{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-20250514",
  "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": ", world."}],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {"input_tokens": 21, "cache_creation_input_tokens": 188, "cache_read_input_tokens": 1800,
            "output_tokens": 393, "service_tier": "standard"}
}"#;

    #[test]
    fn total_input_is_the_sum_of_three() {
        let p = parse(RECORDED.as_bytes()).unwrap();
        assert_eq!(p.text, "Hello, world.");
        assert_eq!(
            p.usage,
            Usage {
                input: 21 + 188 + 1800,
                output: 393,
                cache_read: 1800,
                cache_write: 188
            }
        );
        // Claude Sonnet 4: $3 in, $3.75 cache write, $0.30 cache read, $15 out per million.
        let price = Price {
            input: 3.0,
            output: 15.0,
            cache_read: Some(0.3),
            cache_write: Some(3.75),
        };
        let expect = (21.0 * 3.0 + 188.0 * 3.75 + 1800.0 * 0.3 + 393.0 * 15.0) / 1e6;
        assert!((price.cost(&p.usage) - expect).abs() < 1e-15);
    }

    #[test]
    fn body_moves_system_out_and_rejects_tool_roles() {
        let msgs = [
            Message::new("system", "be brief"),
            Message::new("user", "hi"),
        ];
        let p = Prepared {
            model: "claude",
            messages: &msgs,
            tools: &[],
            max_tokens: 9,
            stop: &[],
            temperature: None,
        };
        let b = body(&p).unwrap();
        assert_eq!(b["system"][0]["text"], "be brief");
        assert_eq!(b["messages"].as_array().unwrap().len(), 1);
        assert_eq!(b["max_tokens"], 9);
        let bad = [Message::new("tool", "x")];
        assert!(body(&Prepared {
            messages: &bad,
            ..p
        })
        .unwrap_err()
        .contains("role `tool`"));
        let no_usage = r#"{"content": [], "usage": {"output_tokens": 1}}"#;
        assert!(parse(no_usage.as_bytes())
            .unwrap_err()
            .contains("input_tokens"));
    }
}
