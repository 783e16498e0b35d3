//! Where a call's tier comes from: a trained router, any function of the request, or — with
//! neither — the caller's tier or the client's default tier.
use crate::request::ChatRequest;

/// Chooses a tier for a request. Implemented for a trained `tierwise_router::Router` and for
/// closures `Fn(&ChatRequest) -> String`.
pub trait Route: Send + Sync {
    /// The name of the tier that should answer.
    fn route(&self, req: &ChatRequest) -> String;

    /// The tier names this route can return, checked against the tier config at build time.
    fn tier_names(&self) -> Option<Vec<String>> {
        None
    }
}

impl<F> Route for F
where
    F: Fn(&ChatRequest) -> String + Send + Sync,
{
    fn route(&self, req: &ChatRequest) -> String {
        self(req)
    }
}
