//! The exact response cache: a bounded, time-limited map from tenant + model + the normalised
//! request to the answer text. A hit costs nothing and makes no provider call.
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tierwise_core::text;

/// Exact-cache settings.
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// How long an answer stays valid.
    pub ttl: Duration,
    /// Most answers kept (least recently used are evicted first).
    pub max_entries: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttl: Duration::from_secs(3600),
            max_entries: 10_000,
        }
    }
}

/// A cached answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    /// The answer text.
    pub text: String,
}

/// Cache key: SHA-256 of the canonical request.
pub type Key = [u8; 32];

/// The exact cache.
#[derive(Clone)]
pub struct ExactCache {
    inner: moka::future::Cache<Key, Arc<Cached>>,
}

impl ExactCache {
    /// A cache with these settings.
    pub fn new(config: CacheConfig) -> Self {
        ExactCache {
            inner: moka::future::Cache::builder()
                .max_capacity(config.max_entries)
                .time_to_live(config.ttl)
                .build(),
        }
    }

    /// Look up an answer.
    pub async fn get(&self, key: &Key) -> Option<Arc<Cached>> {
        self.inner.get(key).await
    }

    /// Store an answer.
    pub async fn put(&self, key: Key, value: Cached) {
        self.inner.insert(key, Arc::new(value)).await;
    }
}

/// The parts of a request that determine its answer.
pub struct KeyParts<'a> {
    /// Tenant (customer).
    pub tenant: &'a str,
    /// Model the request goes to.
    pub model: &'a str,
    /// The messages.
    pub messages: &'a [tierwise_core::Message],
    /// Tools, rendered neutrally.
    pub tools: &'a [crate::request::Tool],
    /// Effective output cap.
    pub max_tokens: u32,
    /// Effective stop sequences.
    pub stop: &'a [String],
    /// Temperature.
    pub temperature: Option<f32>,
}

/// The key of a request: text is whitespace-normalised, stop sequences sorted, so requests that
/// differ only in layout share an answer; anything else that changes the answer changes the key.
pub fn key(p: &KeyParts<'_>) -> Key {
    let messages: Vec<Value> = p
        .messages
        .iter()
        .map(|m| {
            let mut extra = m.extra.clone();
            extra.insert("role".into(), m.role.clone().into());
            extra.insert("content".into(), text::normalize(&m.text()).into());
            Value::Object(extra)
        })
        .collect();
    let mut stop: Vec<&String> = p.stop.iter().collect();
    stop.sort();
    stop.dedup();
    let canonical = json!({
        "tenant": p.tenant,
        "model": p.model,
        "messages": messages,
        "tools": p.tools,
        "max_tokens": p.max_tokens,
        "stop": stop,
        "temperature": p.temperature,
    });
    let mut h = Sha256::new();
    h.update(canonical.to_string().as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tierwise_core::Message;

    fn k(tenant: &str, model: &str, text: &str, stop: &[String]) -> Key {
        key(&KeyParts {
            tenant,
            model,
            messages: &[Message::new("user", text)],
            tools: &[],
            max_tokens: 100,
            stop,
            temperature: None,
        })
    }

    #[test]
    fn key_normalises_layout_only() {
        let s1 = ["b".to_string(), "a".to_string()];
        let s2 = ["a".to_string(), "b".to_string()];
        assert_eq!(
            k("t", "m", "hi  there\n", &s1),
            k("t", "m", " hi there", &s2)
        );
        assert_ne!(k("t", "m", "hi", &[]), k("u", "m", "hi", &[]));
        assert_ne!(k("t", "m", "hi", &[]), k("t", "n", "hi", &[]));
        assert_ne!(k("t", "m", "hi", &[]), k("t", "m", "Hi", &[]));
    }
}
