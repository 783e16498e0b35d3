//! The exact response cache: a bounded, time-limited map from tenant + model + the normalised
//! request to the answer text. A hit costs nothing and makes no provider call.
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

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
/// Every field is hashed length-prefixed (words one by one), so no two requests share an input.
pub fn key(p: &KeyParts<'_>) -> Key {
    let mut h = Sha256::new();
    put(&mut h, p.tenant.as_bytes());
    put(&mut h, p.model.as_bytes());
    h.update((p.messages.len() as u64).to_le_bytes());
    for m in p.messages {
        put(&mut h, m.role.as_bytes());
        match &m.content {
            Value::String(s) => put_normalized(&mut h, s),
            _ => put_normalized(&mut h, &m.text()),
        }
        if m.extra.is_empty() {
            h.update([0u8]);
        } else {
            h.update([1u8]);
            put(
                &mut h,
                Value::Object(m.extra.clone()).to_string().as_bytes(),
            );
        }
    }
    h.update((p.tools.len() as u64).to_le_bytes());
    for t in p.tools {
        put(&mut h, t.name.as_bytes());
        put(&mut h, t.description.as_bytes());
        put(&mut h, t.parameters.to_string().as_bytes());
    }
    h.update(p.max_tokens.to_le_bytes());
    let mut stop: Vec<&String> = p.stop.iter().collect();
    stop.sort();
    stop.dedup();
    h.update((stop.len() as u64).to_le_bytes());
    for s in stop {
        put(&mut h, s.as_bytes());
    }
    match p.temperature {
        None => h.update([0u8]),
        Some(t) => {
            h.update([1u8]);
            h.update(t.to_bits().to_le_bytes());
        }
    }
    h.finalize().into()
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// Hash `text` as `tierwise_core::text::normalize` would leave it, without allocating.
fn put_normalized(h: &mut Sha256, text: &str) {
    for word in text.split_whitespace() {
        put(h, word.as_bytes());
    }
    h.update(u64::MAX.to_le_bytes());
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
        assert_ne!(k("t", "m", "a b", &[]), k("t", "m", "ab", &[]));
        assert_ne!(
            k("t", "m", "hi", &[]),
            k("t", "m", "hi", &["x".to_string()])
        );
    }
}
