//! What the router sees of a prompt.
use tierwise_core::{log::routing_text_of, LogRow, Message};

use crate::features::PromptView;

/// A prompt to route: its routing text, turns and optional feature tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    text: String,
    turns: usize,
    feature: Option<String>,
}

impl Prompt {
    /// A single-turn plain-text prompt.
    pub fn text(text: impl Into<String>) -> Self {
        Prompt {
            text: text.into(),
            turns: 1,
            feature: None,
        }
    }

    /// A chat: the system prompts plus the last user message, as logs are routed.
    pub fn from_messages(messages: &[Message]) -> Self {
        Prompt {
            text: routing_text_of(messages),
            turns: messages.iter().filter(|m| m.role == "user").count().max(1),
            feature: None,
        }
    }

    /// The prompt of a log row (text, turns and feature tag).
    pub fn from_row(row: &LogRow) -> Self {
        Prompt {
            text: row.routing_text(),
            turns: row.turns(),
            feature: row.feature.clone(),
        }
    }

    /// Tag with the calling product feature.
    pub fn with_feature(mut self, feature: impl Into<String>) -> Self {
        self.feature = Some(feature.into());
        self
    }

    /// Set the number of turns.
    pub fn with_turns(mut self, turns: usize) -> Self {
        self.turns = turns.max(1);
        self
    }

    /// The routing text.
    pub fn text_str(&self) -> &str {
        &self.text
    }

    /// The feature tag, if any.
    pub fn feature(&self) -> Option<&str> {
        self.feature.as_deref()
    }

    /// The featuriser's view.
    pub fn view(&self) -> PromptView<'_> {
        PromptView {
            text: &self.text,
            turns: self.turns,
            feature: self.feature.as_deref(),
        }
    }
}
