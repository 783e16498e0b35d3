//! What goes over the wire to Anthropic: prompt-cache breakpoints exactly after the stable
//! prefix and only above the model's minimum, headers, caps, and the usage arithmetic.
mod common;

use common::{builder, tier, Step, TestProvider, Wire, SECRET};
use serde_json::{json, Value};
use tierwise_client::{CacheOutcome, ChatRequest, Tool};

/// About `tokens` tokens of stable text (4 characters a token).
fn text_of(tokens: usize) -> String {
    "abcd".repeat(tokens)
}

fn breakpoints(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if o.contains_key("cache_control") {
                assert_eq!(o["cache_control"], json!({"type": "ephemeral"}));
                out.push(path.clone());
            }
            for (k, x) in o {
                breakpoints(x, format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                breakpoints(x, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

async fn body_for(model: &str, req: ChatRequest) -> (Value, common::Seen) {
    let p = TestProvider::start(Wire::Anthropic, vec![]).await;
    let client = builder(vec![tier("t", model, &p, 3.0, 15.0)])
        .no_cache()
        .build()
        .unwrap();
    client.chat(req).await.unwrap();
    let seen = p.seen().remove(0);
    (seen.body.clone(), seen)
}

fn points(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    breakpoints(body, String::new(), &mut out);
    out
}

fn tool(tokens: usize) -> Tool {
    Tool {
        name: "lookup".into(),
        description: text_of(tokens),
        parameters: json!({"type": "object", "properties": {"id": {"type": "string"}}}),
    }
}

#[tokio::test]
async fn breakpoint_after_a_long_system_prompt_only() {
    let req = ChatRequest::user("variable question").system(text_of(1100));
    let (body, seen) = body_for("claude-sonnet-4-20250514", req).await;
    assert_eq!(points(&body), ["/system/0"]);
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "variable question"}])
    );
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some(SECRET));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("authorization"), None);
}

#[tokio::test]
async fn no_breakpoint_below_the_minimum() {
    // 1,000 tokens: below 1,024.
    let req = ChatRequest::user("q").system(text_of(1000));
    let (body, _) = body_for("claude-sonnet-4-20250514", req).await;
    assert!(points(&body).is_empty(), "{:?}", points(&body));
    // 1,500 tokens: enough for Sonnet, not for Haiku (2,048).
    let req = ChatRequest::user("q").system(text_of(1500));
    let (body, _) = body_for("claude-3-5-haiku-20241022", req).await;
    assert!(points(&body).is_empty());
    let req = ChatRequest::user("q").system(text_of(2100));
    let (body, _) = body_for("claude-3-5-haiku-20241022", req).await;
    assert_eq!(points(&body), ["/system/0"]);
}

#[tokio::test]
async fn tools_and_system_each_get_one_when_long_enough() {
    // Long tools: a breakpoint after the last tool, and after the system prompt.
    let req = ChatRequest::user("q")
        .system("short system")
        .tool(tool(10))
        .tool(tool(1100));
    let (body, _) = body_for("claude-sonnet-4-20250514", req).await;
    assert_eq!(points(&body), ["/system/0", "/tools/1"]);
    // Short tools + system that together pass: only the system breakpoint.
    let req = ChatRequest::user("q").system(text_of(600)).tool(tool(600));
    let (body, _) = body_for("claude-sonnet-4-20250514", req).await;
    assert_eq!(points(&body), ["/system/0"]);
    assert!(body["tools"][0]["input_schema"].is_object());
}

#[tokio::test]
async fn usage_arithmetic_and_prompt_cache_outcome() {
    // input_tokens 50 uncached + 1,200 written + 3,000 read.
    let p = TestProvider::start(Wire::Anthropic, vec![Step::OkUsage(50, 100, 1200, 3000)]).await;
    let mut t = tier("t", "claude-sonnet-4", &p, 3.0, 15.0);
    t.price.cache_read = Some(0.3);
    t.price.cache_write = Some(3.75);
    let client = builder(vec![t]).build().unwrap();
    let r = client.chat(ChatRequest::user("q")).await.unwrap();
    assert_eq!(r.usage.input, 4250);
    assert_eq!((r.usage.cache_write, r.usage.cache_read), (1200, 3000));
    let expect = (50.0 * 3.0 + 1200.0 * 3.75 + 3000.0 * 0.3 + 100.0 * 15.0) / 1e6;
    assert!(
        (r.cost_usd - expect).abs() < 1e-15,
        "{} vs {expect}",
        r.cost_usd
    );
    assert_eq!(r.cache, CacheOutcome::PromptCache);
}

#[tokio::test]
async fn openai_cached_tokens_are_not_billed_twice() {
    let p = TestProvider::start(Wire::OpenAi, vec![Step::OkUsage(2000, 10, 1536, 0)]).await;
    let mut t = tier("t", "gpt-4o-mini", &p, 0.15, 0.6);
    t.price.cache_read = Some(0.075);
    let client = builder(vec![t]).build().unwrap();
    let r = client.chat(ChatRequest::user("q")).await.unwrap();
    assert_eq!((r.usage.input, r.usage.cache_read), (2000, 1536));
    let expect = (464.0 * 0.15 + 1536.0 * 0.075 + 10.0 * 0.6) / 1e6;
    assert!((r.cost_usd - expect).abs() < 1e-15);
    assert_eq!(p.seen()[0].path, "/v1/chat/completions");
}
