//! The tierwise log format: one JSON object per line, one line per model call.
//!
//! The same format is what `train` learns from, what `eval` scores and what the client layer
//! writes, so production logs flow back into training without conversion. See
//! `datasets/README.md` for the field list and an example.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::text;

/// Current version of the log format (`v`).
pub const FORMAT_VERSION: u32 = 1;

/// Outcome of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The provider answered.
    Ok,
    /// The call failed.
    Error,
}

/// One OpenAI-style chat message. `content` is a string or an array of content parts; other
/// fields (`name`, `tool_calls`, …) are kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// A string, an array of parts (`{"type": "text", "text": …}`), or null.
    #[serde(default)]
    pub content: Value,
    /// Any other field of the message.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with plain-text content.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: role.into(),
            content: Value::String(content.into()),
            extra: Map::new(),
        }
    }

    /// The message's text: the string content, or its text parts joined by newlines.
    pub fn text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) => o.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }
}

/// The text used for routing a list of messages: the system (and developer) prompts, then the
/// last user message, separated by blank lines.
pub fn routing_text_of(messages: &[Message]) -> String {
    let mut parts: Vec<String> = messages
        .iter()
        .filter(|m| m.role == "system" || m.role == "developer")
        .map(Message::text)
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(user) = messages.iter().rev().find(|m| m.role == "user") {
        parts.push(user.text());
    }
    parts.join("\n\n")
}

/// One model call. Unknown fields are kept in `extra` and written back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    /// Format version (1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<u32>,
    /// Prompt id: rows with the same id are the same prompt answered by different models.
    /// Default: [`text::prompt_id`] of the routing text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Timestamp, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    /// The prompt as plain text (either this or `messages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// OpenAI-style messages (either this or `prompt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    /// The model that answered.
    pub model: String,
    /// The product feature that made the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// The customer or API key the call was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The tier the call was routed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// All input tokens, cached ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Input tokens read from the provider's prompt cache (a subset of `input_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// Input tokens written to the provider's prompt cache (a subset of `input_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
    /// The call's cost in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Wall-clock latency in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Quality in [0, 1] from a grader, a judge or user feedback; absent = unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `ok` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The model's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// Unknown fields, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LogRow {
    /// A row with a plain-text prompt.
    pub fn new(prompt: impl Into<String>, model: impl Into<String>) -> Self {
        LogRow {
            v: Some(FORMAT_VERSION),
            prompt: Some(prompt.into()),
            model: model.into(),
            ..LogRow::default()
        }
    }

    /// The text used for routing: `prompt`, or the system prompt plus the last user message.
    pub fn routing_text(&self) -> String {
        match (&self.prompt, &self.messages) {
            (Some(p), _) => p.clone(),
            (None, Some(m)) => routing_text_of(m),
            (None, None) => String::new(),
        }
    }

    /// The prompt id: `id` when given, else the hash of the normalised routing text.
    pub fn prompt_id(&self) -> String {
        match &self.id {
            Some(id) => id.clone(),
            None => text::prompt_id(&self.routing_text()),
        }
    }

    /// Number of conversation turns (user messages; 1 for a plain prompt).
    pub fn turns(&self) -> usize {
        match &self.messages {
            Some(m) => m.iter().filter(|m| m.role == "user").count().max(1),
            None => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_text_uses_system_and_last_user() {
        let row: LogRow = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"system","content":"Be brief."},
            {"role":"user","content":"first"},{"role":"assistant","content":"ok"},
            {"role":"user","content":[{"type":"text","text":"second"}]}]}"#,
        )
        .unwrap();
        assert_eq!(row.routing_text(), "Be brief.\n\nsecond");
        assert_eq!(row.turns(), 2);
    }

    #[test]
    fn unknown_fields_round_trip() {
        let line = r#"{"prompt":"p","model":"m","custom":{"a":1}}"#;
        let row: LogRow = serde_json::from_str(line).unwrap();
        assert_eq!(row.extra["custom"]["a"], 1);
        assert_eq!(serde_json::to_string(&row).unwrap(), line);
    }
}
