//! [`ClientBuilder`]: tiers, router, log sink, budget, cache and retry settings.
use std::collections::HashMap;
use std::sync::Arc;

use tierwise_core::TierConfig;

use crate::budget::Budget;
use crate::cache::{CacheConfig, ExactCache};
use crate::client::{Client, Inner, TierRuntime};
use crate::error::{Error, Result};
use crate::providers;
use crate::retry::RetryPolicy;
use crate::route::Route;
use crate::sink::LogSink;

/// Output cap used when neither the tier nor the request sets one (Anthropic requires a cap,
/// and the wallet needs a worst case).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Builds a [`Client`]. Only `tiers` is required.
pub struct ClientBuilder {
    tiers: Option<TierConfig>,
    route: Option<Arc<dyn Route>>,
    default_tier: Option<String>,
    sink: Option<Arc<dyn LogSink>>,
    budget: Budget,
    cache: Option<CacheConfig>,
    retry: RetryPolicy,
    default_max_tokens: u32,
    prompt_caching: bool,
    keys: HashMap<String, String>,
    http: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            tiers: None,
            route: None,
            default_tier: None,
            sink: None,
            budget: Budget::unlimited(),
            cache: Some(CacheConfig::default()),
            retry: RetryPolicy::default(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            prompt_caching: true,
            keys: HashMap::new(),
            http: None,
        }
    }
}

impl ClientBuilder {
    /// The tiers (providers, prices, caps), e.g. `TierConfig::from_file("tiers.toml")?`.
    pub fn tiers(mut self, tiers: TierConfig) -> Self {
        self.tiers = Some(tiers);
        self
    }

    /// Route calls with a trained router or any `Fn(&ChatRequest) -> String`. A tier named in a
    /// request still wins.
    pub fn router(mut self, route: impl Route + 'static) -> Self {
        self.route = Some(Arc::new(route));
        self
    }

    /// As [`ClientBuilder::router`], for a route shared with other code.
    pub fn router_arc(mut self, route: Arc<dyn Route>) -> Self {
        self.route = Some(route);
        self
    }

    /// The tier used when there is no router and the request names none (default: the first,
    /// cheapest tier).
    pub fn default_tier(mut self, name: impl Into<String>) -> Self {
        self.default_tier = Some(name.into());
        self
    }

    /// Where log lines go (none by default).
    pub fn log_sink(mut self, sink: impl LogSink + 'static) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// Daily wallet caps (unlimited by default).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Exact-cache settings (on by default: 1 h TTL, 10,000 answers).
    pub fn cache(mut self, config: CacheConfig) -> Self {
        self.cache = Some(config);
        self
    }

    /// Turn the exact cache off.
    pub fn no_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// Retry settings.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Output cap when neither tier nor request sets one (default 4,096).
    pub fn default_max_tokens(mut self, n: u32) -> Self {
        self.default_max_tokens = n;
        self
    }

    /// Anthropic prompt-cache breakpoints (on by default).
    pub fn prompt_caching(mut self, on: bool) -> Self {
        self.prompt_caching = on;
        self
    }

    /// Use `key` for tiers whose key variable is `var`, instead of reading the environment.
    pub fn api_key(mut self, var: impl Into<String>, key: impl Into<String>) -> Self {
        self.keys.insert(var.into(), key.into());
        self
    }

    /// Use this HTTP client (timeouts are set per attempt regardless).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Check everything and build. API keys are read from the environment here; a missing key
    /// is reported by the first call that needs it ([`Error::MissingApiKey`]).
    pub fn build(self) -> Result<Client> {
        let tiers = self
            .tiers
            .ok_or_else(|| Error::Config("no tiers: call `.tiers(..)`".into()))?;
        tiers.validate("(client tiers)")?;
        self.budget.validate()?;
        self.retry.validate()?;
        if self.default_max_tokens == 0 {
            return Err(Error::Config(
                "default_max_tokens must be at least 1".into(),
            ));
        }
        let default_tier = match &self.default_tier {
            Some(name) => tiers.index(name).ok_or_else(|| {
                Error::Config(format!("default tier `{name}` is not in the tiers"))
            })?,
            None => 0,
        };
        if let Some(names) = self.route.as_ref().and_then(|r| r.tier_names()) {
            if let Some(n) = names.iter().find(|n| tiers.index(n).is_none()) {
                return Err(Error::Config(format!(
                    "the router can choose tier `{n}`, which the tier config lacks (tiers: {})",
                    tiers.names().join(", ")
                )));
            }
        }
        let runtime = tiers
            .tiers
            .iter()
            .map(|t| {
                let var = t.api_key_var();
                let key = self
                    .keys
                    .get(&var)
                    .cloned()
                    .or_else(|| std::env::var(&var).ok())
                    .filter(|k| !k.trim().is_empty());
                TierRuntime {
                    url: providers::endpoint(t),
                    headers: key.as_deref().map(|k| providers::headers(t.provider, k)),
                    key,
                    key_var: var,
                }
            })
            .collect();
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .map_err(|e| Error::Config(format!("HTTP client: {e}")))?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                tiers,
                route: self.route,
                default_tier,
                sink: self.sink,
                budget: self.budget,
                cache: self.cache.map(ExactCache::new),
                retry: self.retry,
                default_max_tokens: self.default_max_tokens,
                prompt_caching: self.prompt_caching,
                runtime,
                http,
            }),
        })
    }
}
