//! A trained `tierwise_router::Router` as the client's [`Route`]: the request's messages (system
//! prompts + last user message, as logs are routed) and feature go to `Router::decide`.
use tierwise_router::{Prompt, Router};

use crate::request::ChatRequest;
use crate::route::Route;

impl Route for Router {
    fn route(&self, req: &ChatRequest) -> String {
        let mut prompt = Prompt::from_messages(&req.messages);
        if let Some(f) = &req.feature {
            prompt = prompt.with_feature(f.clone());
        }
        self.decide(&prompt).tier
    }

    fn tier_names(&self) -> Option<Vec<String>> {
        Some(self.tiers().iter().map(|t| t.name.clone()).collect())
    }
}
