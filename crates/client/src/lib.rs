//! tierwise-client: the async client layer services embed. On every call it applies the wallet
//! cap, the exact cache, routing, output caps, prompt caching, retries, and writes a log line
//! in the tierwise log format.
//!
//! Does not hold: routing logic (`tierwise-router`) or the log schema (`tierwise-core`).
#![deny(missing_docs)]
