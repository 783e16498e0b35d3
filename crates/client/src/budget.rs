//! Daily wallet caps per customer (or key), in US dollars, per UTC day.
//!
//! Before a call the client reserves its worst-case cost; after it, the reservation is settled
//! with the real cost (or released when the call failed). Reservations and spend live in one
//! mutex-protected ledger, so concurrent calls can never jointly exceed a cap as long as each
//! call's real cost stays within its reservation (see [`worst_case_input_tokens`]).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tierwise_core::{Message, Price, Usage};
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};
use crate::request::Tool;

/// Wallet caps: a daily limit per named customer, plus an optional one for everyone else.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    caps: HashMap<String, f64>,
    default_cap: Option<f64>,
    ledger: Ledger,
}

/// Spent plus reserved US dollars per (customer, UTC day).
type Ledger = Arc<Mutex<HashMap<(String, Date), f64>>>;

/// A reserved amount; settle it with the real cost, or drop it to release it.
#[derive(Debug)]
pub struct Reservation {
    ledger: Option<Ledger>,
    key: (String, Date),
    amount: f64,
}

/// The customer name used when a request names none.
pub const ANONYMOUS: &str = "-";

impl Budget {
    /// No caps at all.
    pub fn unlimited() -> Self {
        Budget::default()
    }

    /// A daily cap of `usd` for `customer`, e.g. `Budget::daily_usd("production", 50.0)`.
    pub fn daily_usd(customer: impl Into<String>, usd: f64) -> Self {
        Budget::default().and(customer, usd)
    }

    /// Add another customer's daily cap.
    pub fn and(mut self, customer: impl Into<String>, usd: f64) -> Self {
        self.caps.insert(customer.into(), usd);
        self
    }

    /// A daily cap for every customer not named (and for requests naming no customer).
    pub fn default_daily_usd(mut self, usd: f64) -> Self {
        self.default_cap = Some(usd);
        self
    }

    /// Check the caps are finite and not negative.
    pub fn validate(&self) -> Result<()> {
        for (c, &usd) in self
            .caps
            .iter()
            .map(|(c, u)| (c.as_str(), u))
            .chain(self.default_cap.iter().map(|u| ("(default)", u)))
        {
            if !(usd >= 0.0 && usd.is_finite()) {
                return Err(Error::Config(format!(
                    "budget for `{c}` must be a number ≥ 0, got {usd}"
                )));
            }
        }
        Ok(())
    }

    /// The cap that applies to `customer`, if any.
    pub fn cap_of(&self, customer: &str) -> Option<f64> {
        self.caps.get(customer).copied().or(self.default_cap)
    }

    /// Reserve `amount` for `customer` today, or refuse with [`Error::BudgetExceeded`].
    pub fn reserve(&self, customer: &str, amount: f64) -> Result<Reservation> {
        let Some(cap) = self.cap_of(customer) else {
            return Ok(Reservation {
                ledger: None,
                key: (customer.to_string(), today()),
                amount: 0.0,
            });
        };
        let key = (customer.to_string(), today());
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        let used = ledger.entry(key.clone()).or_insert(0.0);
        if *used + amount > cap {
            return Err(Error::BudgetExceeded {
                customer: customer.to_string(),
                needed_usd: amount,
                remaining_usd: (cap - *used).max(0.0),
                cap_usd: cap,
            });
        }
        *used += amount;
        Ok(Reservation {
            ledger: Some(self.ledger.clone()),
            key,
            amount,
        })
    }

    /// Spent plus reserved today for `customer`.
    pub fn used_today(&self, customer: &str) -> f64 {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        ledger
            .get(&(customer.to_string(), today()))
            .copied()
            .unwrap_or(0.0)
    }
}

impl Reservation {
    /// Replace the reservation with the real cost (kept on the day it was reserved).
    pub fn settle(mut self, real_usd: f64) {
        if let Some(ledger) = self.ledger.take() {
            let mut l = ledger.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(used) = l.get_mut(&self.key) {
                *used = (*used - self.amount + real_usd).max(0.0);
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(ledger) = self.ledger.take() {
            let mut l = ledger.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(used) = l.get_mut(&self.key) {
                *used = (*used - self.amount).max(0.0);
            }
        }
    }
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Per-message framing tokens added to the byte bound (role markers, separators).
const MESSAGE_OVERHEAD: u64 = 8;

/// An upper bound on a request's input tokens: its UTF-8 byte count (a byte-level BPE token
/// covers at least one byte) plus framing per message and tool. Deliberately pessimistic
/// (about 4× a typical count) so a reservation always covers the real cost.
pub fn worst_case_input_tokens(messages: &[Message], tools: &[Tool]) -> u64 {
    let msgs: u64 = messages
        .iter()
        .map(|m| {
            let content = match &m.content {
                serde_json::Value::String(s) => s.len(),
                other => other.to_string().len(),
            };
            (content + m.role.len()) as u64 + MESSAGE_OVERHEAD
        })
        .sum();
    let tools: u64 = tools
        .iter()
        .map(|t| {
            (t.name.len() + t.description.len() + t.parameters.to_string().len()) as u64
                + MESSAGE_OVERHEAD
        })
        .sum();
    msgs + tools + MESSAGE_OVERHEAD
}

/// Worst-case cost: every input token at the highest input-side price, plus `max_tokens` output.
pub fn worst_case_cost(price: &Price, input_tokens: u64, max_tokens: u32) -> f64 {
    let top_input = price
        .input
        .max(price.cache_write.unwrap_or(0.0))
        .max(price.cache_read.unwrap_or(0.0));
    let p = Price {
        input: top_input,
        output: price.output,
        cache_read: None,
        cache_write: None,
    };
    p.cost(&Usage {
        input: input_tokens,
        output: max_tokens as u64,
        cache_read: 0,
        cache_write: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_settle_release() {
        let b = Budget::daily_usd("acme", 1.0);
        let r = b.reserve("acme", 0.6).unwrap();
        assert!(matches!(
            b.reserve("acme", 0.5),
            Err(Error::BudgetExceeded { .. })
        ));
        r.settle(0.1);
        assert!((b.used_today("acme") - 0.1).abs() < 1e-12);
        let r2 = b.reserve("acme", 0.5).unwrap();
        drop(r2);
        assert!((b.used_today("acme") - 0.1).abs() < 1e-12);
        // uncapped customers always pass
        assert!(b.reserve("other", 1e9).is_ok());
        let d = Budget::unlimited().default_daily_usd(0.0);
        assert!(d.reserve("x", 0.01).is_err());
    }

    #[test]
    fn worst_case_covers_cache_write_price() {
        let p = Price {
            input: 3.0,
            output: 15.0,
            cache_read: Some(0.3),
            cache_write: Some(3.75),
        };
        let c = worst_case_cost(&p, 1_000_000, 0);
        assert!((c - 3.75).abs() < 1e-12);
        let m = [Message::new("user", "héllo")];
        assert_eq!(worst_case_input_tokens(&m, &[]), 6 + 4 + 8 + 8);
    }
}
