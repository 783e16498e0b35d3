//! The wallet cap holds under concurrency: 1,000 calls race against a small cap.
mod common;

use std::time::Duration;

use common::{builder, tier, Step, TestProvider, Wire};
use tierwise_client::{Budget, ChatRequest, Error};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_racing_calls_never_overspend() {
    // Every answer takes 2 ms and costs nearly its worst case (20 in + 95 of 100 out), and the
    // calls arrive over ~50 ms: reservations, settlements and refusals interleave.
    let script = (0..1000).map(|_| Step::OkUsage(20, 95, 0, 0)).collect();
    let p = TestProvider::start_with_delay(Wire::OpenAi, script, Duration::from_millis(2)).await;
    // $1 in / $2 out per million tokens: worst ≈ $0.000224 a call, real $0.00021.
    let cap = 0.004;
    let client = builder(vec![tier("t", "m", &p, 1.0, 2.0)])
        .no_cache()
        .budget(Budget::daily_usd("acme", cap))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_micros(50 * i)).await;
            c.chat(
                ChatRequest::user(format!("q{i}"))
                    .customer("acme")
                    .max_tokens(100),
            )
            .await
        }));
    }
    let (mut spent, mut ok, mut refused) = (0.0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                spent += r.cost_usd;
                ok += 1;
            }
            Err(Error::BudgetExceeded { customer, .. }) => {
                assert_eq!(customer, "acme");
                refused += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    let used = client.budget().used_today("acme");
    assert!(spent <= cap + 1e-12, "spent {spent} > cap {cap}");
    assert!(
        spent > 0.9 * cap,
        "the cap was never approached: spent {spent}"
    );
    assert!(
        (used - spent).abs() < 1e-9,
        "ledger {used} vs replies {spent}"
    );
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
    assert_eq!(ok + refused, 1000);
    assert_eq!(p.requests(), ok);
    // Another customer is not capped by acme's wallet.
    assert!(client
        .chat(ChatRequest::user("x").customer("other"))
        .await
        .is_ok());
}

#[tokio::test]
async fn failed_calls_release_their_reservation() {
    let p = TestProvider::start(Wire::OpenAi, vec![Step::NotJson]).await;
    let client = builder(vec![tier("t", "m", &p, 1.0, 2.0)])
        .budget(Budget::daily_usd("acme", 1.0))
        .build()
        .unwrap();
    let req = ChatRequest::user("hi").customer("acme");
    assert!(client.chat(req.clone()).await.is_err());
    assert_eq!(client.budget().used_today("acme"), 0.0);
    let r = client.chat(req).await.unwrap();
    let expect = (20.0 * 1.0 + 5.0 * 2.0) / 1e6;
    assert!((client.budget().used_today("acme") - expect).abs() < 1e-15);
    assert!((r.cost_usd - expect).abs() < 1e-15);
}
