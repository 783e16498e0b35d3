//! tierwise-client: the async client layer services embed. On every call it applies the wallet
//! cap, the exact cache, routing, output caps, prompt caching, retries, and writes a log line
//! in the tierwise log format.
//!
//! ```no_run
//! # async fn demo() -> tierwise_client::Result<()> {
//! use tierwise_client::{Budget, ChatRequest, Client, JsonlSink, Tiers};
//! let client = Client::builder()
//!     .tiers(Tiers::from_file("tiers.toml")?)
//!     .log_sink(JsonlSink::daily("logs/"))
//!     .budget(Budget::daily_usd("production", 50.0).and("ci", 1.0))
//!     .build()?;
//! let reply = client
//!     .chat(ChatRequest::user("Summarise this ticket").feature("support").customer("production"))
//!     .await?;
//! println!("{} ({}, ${:.6}, cache {:?})", reply.text, reply.tier, reply.cost_usd, reply.cache);
//! # Ok(()) }
//! ```
//!
//! Routing: a tier named in the request wins; otherwise the router given to the builder
//! (anything implementing [`Route`]) decides; with neither, the builder's default tier (the
//! first, cheapest tier unless set) answers.
//!
//! Does not hold: routing logic (`tierwise-router`) or the log schema (`tierwise-core`).
#![deny(missing_docs)]

pub mod budget;
pub mod builder;
pub mod cache;
pub mod client;
pub mod error;
pub mod prompt_cache;
pub mod providers;
pub mod record;
pub mod request;
pub mod retry;
pub mod route;
mod route_router;
pub mod sink;

pub use budget::Budget;
pub use builder::ClientBuilder;
pub use cache::CacheConfig;
pub use client::Client;
pub use error::{Error, Result};
pub use request::{CacheOutcome, ChatRequest, Reply, Tool};
pub use retry::RetryPolicy;
pub use route::Route;
pub use sink::{JsonlSink, LogSink, MemorySink};
pub use tierwise_core::{Message, TierConfig as Tiers, Usage};
