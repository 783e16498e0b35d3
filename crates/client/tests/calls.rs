//! The call pipeline end to end: routing, output caps, exact cache, chat_many, missing keys.
mod common;

use common::{builder, tier, TestProvider, Wire};
use tierwise_client::{CacheOutcome, ChatRequest, Client, Error};

async fn two_tiers() -> (TestProvider, TestProvider, Client) {
    let small = TestProvider::start(Wire::OpenAi, vec![]).await;
    let large = TestProvider::start(Wire::Anthropic, vec![]).await;
    let mut s = tier("small", "gpt-small", &small, 0.1, 0.4);
    s.max_tokens = Some(100);
    s.stop = vec!["\n\nUser:".into()];
    let l = tier("large", "claude-large", &large, 3.0, 15.0);
    // Route long prompts to the large tier.
    let client = builder(vec![s, l])
        .router(|r: &ChatRequest| {
            let long = r.messages.iter().map(|m| m.text().len()).sum::<usize>() > 40;
            if long { "large" } else { "small" }.to_string()
        })
        .build()
        .unwrap();
    (small, large, client)
}

#[tokio::test]
async fn router_decides_and_the_caller_can_override() {
    let (small, large, client) = two_tiers().await;
    let r = client.chat(ChatRequest::user("short")).await.unwrap();
    assert_eq!((r.tier.as_str(), r.model.as_str()), ("small", "gpt-small"));
    let long = "a much longer question that the router sends to the large tier";
    let r = client.chat(ChatRequest::user(long)).await.unwrap();
    assert_eq!(r.tier, "large");
    let r = client
        .chat(ChatRequest::user("short2").tier("large"))
        .await
        .unwrap();
    assert_eq!(r.tier, "large");
    assert_eq!((small.requests(), large.requests()), (1, 2));
    let e = client
        .chat(ChatRequest::user("x").tier("nope"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(ref m) if m.contains("nope")),
        "{e}"
    );
}

#[tokio::test]
async fn without_a_router_the_default_tier_answers() {
    let p = TestProvider::start(Wire::OpenAi, vec![]).await;
    let tiers = vec![tier("a", "ma", &p, 1.0, 1.0), tier("b", "mb", &p, 2.0, 2.0)];
    let client = builder(tiers.clone()).build().unwrap();
    assert_eq!(client.chat(ChatRequest::user("x")).await.unwrap().tier, "a");
    let client = builder(tiers.clone()).default_tier("b").build().unwrap();
    assert_eq!(client.chat(ChatRequest::user("x")).await.unwrap().tier, "b");
    assert!(builder(tiers).default_tier("zz").build().is_err());
}

#[tokio::test]
async fn output_caps_take_the_smaller_and_merge_stops() {
    let (small, _, client) = two_tiers().await;
    client
        .chat(ChatRequest::user("a").max_tokens(50).stop("END"))
        .await
        .unwrap();
    client
        .chat(ChatRequest::user("b").max_tokens(500))
        .await
        .unwrap();
    let seen = small.seen();
    assert_eq!(seen[0].body["max_tokens"], 50);
    assert_eq!(
        seen[0].body["stop"],
        serde_json::json!(["\n\nUser:", "END"])
    );
    assert_eq!(seen[1].body["max_tokens"], 100);
}

#[tokio::test]
async fn exact_cache_hits_cost_nothing_and_respect_the_opt_outs() {
    let (small, _, client) = two_tiers().await;
    let req = ChatRequest::user("what is 2+2?").customer("acme");
    let first = client.chat(req.clone()).await.unwrap();
    assert_eq!(first.cache, CacheOutcome::None);
    assert!(first.cost_usd > 0.0);
    // Same request, different layout: a hit.
    let hit = client
        .chat(ChatRequest::user("what  is 2+2? ").customer("acme"))
        .await
        .unwrap();
    assert_eq!(hit.cache, CacheOutcome::Exact);
    assert_eq!((hit.cost_usd, hit.attempts), (0.0, 0));
    assert_eq!(hit.text, first.text);
    assert_eq!(small.requests(), 1);
    // Another tenant, a personal request, a hot temperature: all miss.
    client.chat(req.clone().customer("globex")).await.unwrap();
    client.chat(req.clone().personal(true)).await.unwrap();
    client.chat(req.clone().personal(true)).await.unwrap();
    client.chat(req.clone().temperature(0.7)).await.unwrap();
    client.chat(req.clone().temperature(0.7)).await.unwrap();
    assert_eq!(small.requests(), 6);
    // Opting in caches non-deterministic requests too.
    let hot = req
        .clone()
        .temperature(0.7)
        .allow_cache_nondeterministic(true);
    client.chat(hot.clone()).await.unwrap();
    assert_eq!(client.chat(hot).await.unwrap().cache, CacheOutcome::Exact);
    assert_eq!(small.requests(), 7);
}

#[tokio::test]
async fn chat_many_keeps_order_bounds_concurrency_and_reports_per_item_errors() {
    let p =
        TestProvider::start_with_delay(Wire::OpenAi, vec![], std::time::Duration::from_millis(10))
            .await;
    let client = builder(vec![tier("t", "m", &p, 1.0, 1.0)])
        .no_cache()
        .build()
        .unwrap();
    let mut reqs: Vec<ChatRequest> = (0..40)
        .map(|i| ChatRequest::user(format!("n{i}")))
        .collect();
    reqs[7] = ChatRequest::user("bad").tier("missing");
    let out = client.chat_many_with_progress(reqs, 4, true).await;
    assert_eq!(out.len(), 40);
    for (i, r) in out.iter().enumerate() {
        if i == 7 {
            assert!(matches!(r, Err(Error::InvalidRequest(_))));
        } else {
            assert_eq!(r.as_ref().unwrap().text, format!("echo: n{i}"));
        }
    }
    assert!(p.max_in_flight() <= 4, "{}", p.max_in_flight());
    assert!(p.max_in_flight() >= 2, "calls did not overlap");
}

#[tokio::test]
async fn a_missing_key_names_its_variable() {
    let p = TestProvider::start(Wire::OpenAi, vec![]).await;
    let mut t = tier("t", "m", &p, 1.0, 1.0);
    t.api_key_env = Some("TIERWISE_TEST_DEFINITELY_UNSET".into());
    let client = Client::builder()
        .tiers(tierwise_core::TierConfig { tiers: vec![t] })
        .build()
        .unwrap();
    assert_eq!(
        client.missing_api_keys(),
        [(
            "t".to_string(),
            "TIERWISE_TEST_DEFINITELY_UNSET".to_string()
        )]
    );
    let e = client.chat(ChatRequest::user("x")).await.unwrap_err();
    assert!(
        e.to_string().contains("TIERWISE_TEST_DEFINITELY_UNSET"),
        "{e}"
    );
    assert_eq!(p.requests(), 0);
}
