//! The one error type of the client layer. Messages never carry an API key or an
//! authorization header: provider messages are scrubbed of the key before they are stored.
use std::path::PathBuf;
use std::time::Duration;

/// Result alias for tierwise-client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a call or the client's set-up can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The customer's daily wallet cap cannot hold this call's worst-case cost.
    #[error(
        "budget exceeded for `{customer}`: this call may cost up to ${needed_usd:.6}, \
         ${remaining_usd:.6} of the ${cap_usd:.2}/day cap is left"
    )]
    BudgetExceeded {
        /// The customer (or key) whose wallet is full.
        customer: String,
        /// The worst-case cost reserved for the call.
        needed_usd: f64,
        /// What is left of today's cap (spent and in-flight reservations deducted).
        remaining_usd: f64,
        /// The daily cap.
        cap_usd: f64,
    },
    /// The provider refused the request (a 4xx that is not retried); `message` is its own.
    #[error("provider rejected the request with HTTP {status}: {message}")]
    ProviderRejected {
        /// HTTP status.
        status: u16,
        /// The provider's error message.
        message: String,
    },
    /// Every attempt failed with a retryable error, or the retry budget ran out.
    #[error("provider unavailable after {attempts} attempt(s): {last}")]
    ProviderUnavailable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The last attempt timed out and no time or attempt was left for another.
    #[error("provider timed out after {attempts} attempt(s) in {elapsed:?}")]
    Timeout {
        /// Attempts made.
        attempts: u32,
        /// Time spent on the call, retries included.
        elapsed: Duration,
    },
    /// The provider answered 2xx with a body that is not the expected JSON.
    #[error("invalid response from provider: {0}")]
    InvalidResponse(String),
    /// The tier's API key variable is not set.
    #[error("environment variable `{var}` (API key of tier `{tier}`) is not set")]
    MissingApiKey {
        /// The variable.
        var: String,
        /// The tier that needs it.
        tier: String,
    },
    /// The request cannot be sent as given (unknown tier, unsupported message, …).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client's configuration is invalid.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// Reading the tier config or writing a log failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An error from tierwise-core (tier config, log format).
    #[error(transparent)]
    Core(#[from] tierwise_core::Error),
}

impl Error {
    /// A short machine-readable name, written to the log's `error` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BudgetExceeded { .. } => "budget_exceeded",
            Error::ProviderRejected { .. } => "provider_rejected",
            Error::ProviderUnavailable { .. } => "provider_unavailable",
            Error::Timeout { .. } => "timeout",
            Error::InvalidResponse(_) => "invalid_response",
            Error::MissingApiKey { .. } => "missing_api_key",
            Error::InvalidRequest(_) => "invalid_request",
            Error::Config(_) => "config",
            Error::Io { .. } => "io",
            Error::Core(_) => "core",
        }
    }

    /// Attempts made at the provider (0 when the call never reached it).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::ProviderUnavailable { attempts, .. } | Error::Timeout { attempts, .. } => {
                *attempts
            }
            _ => 0,
        }
    }
}

/// Remove every occurrence of `secret` (and its `Bearer` form) from `text`.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.len() < 4 {
        return text.to_string();
    }
    text.replace(secret, "[redacted]")
}
