//! [`Client`]: one call = wallet cap → exact cache → route → output caps → prompt caching →
//! send with retries → log.
//!
//! The routing decision is a pure, in-process computation; it is made first because the wallet
//! reservation needs the tier's prices and the exact-cache key needs its model. Effects happen
//! in the documented order: the reservation (which can refuse the call) comes before the cache
//! lookup, which comes before any provider traffic.
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use reqwest::header::HeaderMap;
use tierwise_core::{progress, Tier, TierConfig};

use crate::budget::{worst_case_cost, worst_case_input_tokens, Budget, ANONYMOUS};
use crate::builder::ClientBuilder;
use crate::cache::{self, Cached, ExactCache};
use crate::error::{Error, Result};
use crate::providers::{self, Prepared};
use crate::record;
use crate::request::{CacheOutcome, ChatRequest, Reply};
use crate::retry::{self, RetryPolicy};
use crate::route::Route;
use crate::sink::LogSink;

/// The client services embed. Cheap to clone (shared state behind an `Arc`).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct TierRuntime {
    pub url: String,
    pub headers: Option<HeaderMap>,
    pub key: Option<String>,
    pub key_var: String,
}

pub(crate) struct Inner {
    pub tiers: TierConfig,
    pub route: Option<Arc<dyn Route>>,
    pub default_tier: usize,
    pub sink: Option<Arc<dyn LogSink>>,
    pub budget: Budget,
    pub cache: Option<ExactCache>,
    pub retry: RetryPolicy,
    pub default_max_tokens: u32,
    pub prompt_caching: bool,
    pub runtime: Vec<TierRuntime>,
    pub http: reqwest::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately no keys or headers.
        f.debug_struct("Client")
            .field("tiers", &self.inner.tiers.names())
            .field("router", &self.inner.route.is_some())
            .field("cache", &self.inner.cache.is_some())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Start building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The tier config in use.
    pub fn tiers(&self) -> &TierConfig {
        &self.inner.tiers
    }

    /// The wallet ledger (to read today's spend).
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// Key variables that tiers need and that are not set, as `(tier, variable)`.
    pub fn missing_api_keys(&self) -> Vec<(String, String)> {
        self.inner
            .tiers
            .tiers
            .iter()
            .zip(&self.inner.runtime)
            .filter(|(_, rt)| rt.key.is_none())
            .map(|(t, rt)| (t.name.clone(), rt.key_var.clone()))
            .collect()
    }

    /// The tier index a request goes to: the caller's tier, else the router's choice, else the
    /// default tier (the first one unless the builder names another).
    pub fn tier_for(&self, req: &ChatRequest) -> Result<usize> {
        let tiers = &self.inner.tiers;
        let (name, source) = match (&req.tier, &self.inner.route) {
            (Some(name), _) => (name.clone(), "request"),
            (None, Some(route)) => (route.route(req), "router"),
            (None, None) => return Ok(self.inner.default_tier),
        };
        tiers.index(&name).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "the {source} chose tier `{name}`, which is not in the tiers ({})",
                tiers.names().join(", ")
            ))
        })
    }

    /// Make one call. See the module doc for the order of steps.
    pub async fn chat(&self, req: ChatRequest) -> Result<Reply> {
        let start = Instant::now();
        let inner = &*self.inner;
        if req.messages.is_empty() {
            return Err(Error::InvalidRequest("the request has no messages".into()));
        }
        let t = self.tier_for(&req)?;
        let tier = &inner.tiers.tiers[t];
        // Output caps: the smaller of the tier's and the caller's; stops from both.
        let max_tokens = match (tier.max_tokens, req.max_tokens) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(inner.default_max_tokens),
        }
        .max(1);
        let mut stop = tier.stop.clone();
        for s in &req.stop {
            if !stop.contains(s) {
                stop.push(s.clone());
            }
        }
        // 1. Wallet cap.
        let customer = req.customer.as_deref().unwrap_or(ANONYMOUS);
        let worst = worst_case_cost(
            &tier.price,
            worst_case_input_tokens(&req.messages, &req.tools),
            max_tokens,
        );
        let reservation = match inner.budget.reserve(customer, worst) {
            Ok(r) => r,
            Err(e) => return Err(self.fail(&req, tier, e, 0, start)),
        };
        // 2. Exact cache.
        let key = match (&inner.cache, req.cacheable()) {
            (Some(_), true) => Some(cache::key(&cache::KeyParts {
                tenant: customer,
                model: &tier.model,
                messages: &req.messages,
                tools: &req.tools,
                max_tokens,
                stop: &stop,
                temperature: req.temperature,
            })),
            _ => None,
        };
        if let (Some(c), Some(k)) = (&inner.cache, &key) {
            if let Some(hit) = c.get(k).await {
                drop(reservation);
                let reply = Reply {
                    score: req.grader.as_ref().and_then(|g| g(&hit.text)),
                    text: hit.text.clone(),
                    tier: tier.name.clone(),
                    model: tier.model.clone(),
                    usage: Default::default(),
                    cost_usd: 0.0,
                    cache: CacheOutcome::Exact,
                    attempts: 0,
                    latency: start.elapsed(),
                    log_error: None,
                };
                return Ok(self.log_ok(&req, tier, reply));
            }
        }
        // 3–5. The routed tier's provider, with caps and prompt caching.
        let rt = &inner.runtime[t];
        let (Some(key_str), Some(headers)) = (&rt.key, &rt.headers) else {
            let e = Error::MissingApiKey {
                var: rt.key_var.clone(),
                tier: tier.name.clone(),
            };
            return Err(self.fail(&req, tier, e, 0, start));
        };
        let prepared = Prepared {
            model: &tier.model,
            messages: &req.messages,
            tools: &req.tools,
            max_tokens,
            stop: &stop,
            temperature: req.temperature,
        };
        let body = match providers::body(tier.provider, &prepared, inner.prompt_caching)
            .and_then(|b| serde_json::to_vec(&b).map_err(|e| e.to_string()))
        {
            Ok(b) => b,
            Err(m) => return Err(self.fail(&req, tier, Error::InvalidRequest(m), 0, start)),
        };
        // 6. Send with retries.
        let (result, attempts) = retry::run(&inner.retry, |timeout| {
            providers::attempt(
                &inner.http,
                &rt.url,
                headers,
                &body,
                tier.provider,
                timeout,
                key_str,
            )
        })
        .await;
        let parsed = match result {
            Ok(p) => p,
            Err(e) => {
                drop(reservation);
                return Err(self.fail(&req, tier, e, attempts, start));
            }
        };
        let cost = tier.price.cost(&parsed.usage);
        reservation.settle(cost);
        if let (Some(c), Some(k)) = (&inner.cache, key) {
            c.put(
                k,
                Cached {
                    text: parsed.text.clone(),
                },
            )
            .await;
        }
        let reply = Reply {
            score: req.grader.as_ref().and_then(|g| g(&parsed.text)),
            cache: if parsed.usage.cache_read > 0 {
                CacheOutcome::PromptCache
            } else {
                CacheOutcome::None
            },
            text: parsed.text,
            tier: tier.name.clone(),
            model: tier.model.clone(),
            usage: parsed.usage,
            cost_usd: cost,
            attempts,
            latency: start.elapsed(),
            log_error: None,
        };
        // 7. Log.
        Ok(self.log_ok(&req, tier, reply))
    }

    fn log_ok(&self, req: &ChatRequest, tier: &Tier, mut reply: Reply) -> Reply {
        if let Some(sink) = &self.inner.sink {
            let row = record::row(req, tier, Ok(&reply), reply.attempts, reply.latency);
            reply.log_error = sink.write(&row).err().map(|e| e.to_string());
        }
        reply
    }

    /// Log a failed call (best effort: the call's own error is what the caller needs) and
    /// hand the error back.
    fn fail(
        &self,
        req: &ChatRequest,
        tier: &Tier,
        e: Error,
        attempts: u32,
        start: Instant,
    ) -> Error {
        if let Some(sink) = &self.inner.sink {
            let row = record::row(req, tier, Err(&e), attempts, start.elapsed());
            let _ = sink.write(&row);
        }
        e
    }

    /// Run independent calls with at most `concurrency` in flight; results come back in input
    /// order, each with its own error.
    pub async fn chat_many(
        &self,
        requests: Vec<ChatRequest>,
        concurrency: usize,
    ) -> Vec<Result<Reply>> {
        self.chat_many_with_progress(requests, concurrency, false)
            .await
    }

    /// [`Client::chat_many`] with a progress bar on stderr when `progress` is set (hidden when
    /// stderr is not a terminal).
    pub async fn chat_many_with_progress(
        &self,
        requests: Vec<ChatRequest>,
        concurrency: usize,
        progress: bool,
    ) -> Vec<Result<Reply>> {
        let bar = if progress {
            progress::bar(requests.len() as u64, "calls", false)
        } else {
            indicatif::ProgressBar::hidden()
        };
        let out = futures::stream::iter(requests)
            .map(|r| {
                let bar = bar.clone();
                async move {
                    let res = self.chat(r).await;
                    bar.inc(1);
                    res
                }
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        bar.finish_and_clear();
        out
    }
}
