//! What a caller asks for ([`ChatRequest`]) and what it gets back ([`Reply`]).
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tierwise_core::{Message, Usage};

/// A tool the model may call, in a provider-neutral form (rendered per wire format).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    /// Tool name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its input.
    pub parameters: serde_json::Value,
}

/// Scores a reply's text in [0, 1]; the score goes into the log line so the logs train a router.
pub type Grader = Arc<dyn Fn(&str) -> Option<f64> + Send + Sync>;

/// One chat call. Build with [`ChatRequest::new`] and the chained setters.
///
/// System (and developer) messages are the stable prefix used for prompt caching: put
/// per-request content in user messages, not in the system prompt.
#[derive(Clone, Default)]
pub struct ChatRequest {
    /// The conversation, OpenAI style (`system`, `user`, `assistant`).
    pub messages: Vec<Message>,
    /// Tool definitions (part of the cacheable prefix).
    pub tools: Vec<Tool>,
    /// Product feature, for the router and the log.
    pub feature: Option<String>,
    /// Customer or key: the wallet and the cache tenant.
    pub customer: Option<String>,
    /// Tier named by the caller; overrides the router.
    pub tier: Option<String>,
    /// Output cap; the smaller of this and the tier's `max_tokens` is sent.
    pub max_tokens: Option<u32>,
    /// Stop sequences, added to the tier's.
    pub stop: Vec<String>,
    /// Sampling temperature (provider default when unset).
    pub temperature: Option<f32>,
    /// Personal data: never served from or stored in the exact cache.
    pub personal: bool,
    /// Allow the exact cache even with temperature > 0.
    pub allow_cache_nondeterministic: bool,
    /// Optional grader; its score is written to the log line.
    pub grader: Option<Grader>,
}

impl fmt::Debug for ChatRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatRequest")
            .field("messages", &self.messages.len())
            .field("tools", &self.tools.len())
            .field("feature", &self.feature)
            .field("customer", &self.customer)
            .field("tier", &self.tier)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("personal", &self.personal)
            .finish_non_exhaustive()
    }
}

impl ChatRequest {
    /// A request with these messages.
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            messages,
            ..Default::default()
        }
    }

    /// A request with one user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(vec![Message::new("user", text)])
    }

    /// Prepend a system prompt.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.messages.insert(0, Message::new("system", text));
        self
    }

    /// Add a tool definition.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Set the product feature.
    pub fn feature(mut self, feature: impl Into<String>) -> Self {
        self.feature = Some(feature.into());
        self
    }

    /// Set the customer (wallet and cache tenant).
    pub fn customer(mut self, customer: impl Into<String>) -> Self {
        self.customer = Some(customer.into());
        self
    }

    /// Name the tier, bypassing the router.
    pub fn tier(mut self, tier: impl Into<String>) -> Self {
        self.tier = Some(tier.into());
        self
    }

    /// Cap the output tokens.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Add a stop sequence.
    pub fn stop(mut self, s: impl Into<String>) -> Self {
        self.stop.push(s.into());
        self
    }

    /// Set the temperature.
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Mark as personal: no exact cache.
    pub fn personal(mut self, yes: bool) -> Self {
        self.personal = yes;
        self
    }

    /// Opt in to the exact cache for temperature > 0.
    pub fn allow_cache_nondeterministic(mut self, yes: bool) -> Self {
        self.allow_cache_nondeterministic = yes;
        self
    }

    /// Grade the reply; the score is logged.
    pub fn grader(mut self, g: impl Fn(&str) -> Option<f64> + Send + Sync + 'static) -> Self {
        self.grader = Some(Arc::new(g));
        self
    }

    /// Whether the exact cache may serve or store this request.
    pub fn cacheable(&self) -> bool {
        !self.personal
            && (self.temperature.is_none_or(|t| t <= 0.0) || self.allow_cache_nondeterministic)
    }
}

/// Where the answer came from, cost-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    /// Served from the exact response cache: no provider call, no cost.
    Exact,
    /// The provider read part of the prompt from its prompt cache.
    PromptCache,
    /// No cache involved.
    None,
}

impl CacheOutcome {
    /// The value written to the log's `cache` field.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Exact => "exact",
            CacheOutcome::PromptCache => "prompt",
            CacheOutcome::None => "none",
        }
    }
}

/// The answer to a [`ChatRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The model's text.
    pub text: String,
    /// The tier that answered.
    pub tier: String,
    /// The model that answered.
    pub model: String,
    /// Token counts (all input tokens in `input`, cached ones included); zero for an exact hit.
    pub usage: Usage,
    /// What the call cost (0 for an exact hit).
    pub cost_usd: f64,
    /// Cache outcome.
    pub cache: CacheOutcome,
    /// Provider attempts (0 for an exact hit).
    pub attempts: u32,
    /// Wall-clock time of the whole call.
    pub latency: Duration,
    /// The grader's score, when the request had a grader.
    pub score: Option<f64>,
    /// Why the log line could not be written, if it could not (the reply is still good).
    pub log_error: Option<String>,
}
