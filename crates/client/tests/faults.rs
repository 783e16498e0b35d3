//! Fault injection over real HTTP on loopback: every call ends in success or a typed error,
//! within the retry budget, with the number of attempts checked.
mod common;

use std::time::{Duration, Instant};

use common::{builder, tier, Step, TestProvider, Wire, SECRET};
use tierwise_client::{ChatRequest, Client, Error, Reply};

async fn run(wire: Wire, script: Vec<Step>) -> (TestProvider, Result<Reply, Error>, Duration) {
    let p = TestProvider::start(wire, script).await;
    let client: Client = builder(vec![tier("t", "model-x", &p, 1.0, 2.0)])
        .no_cache()
        .build()
        .unwrap();
    let start = Instant::now();
    let r = client.chat(ChatRequest::user("hello")).await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "call took {took:?}");
    (p, r, took)
}

fn status(code: u16) -> Step {
    Step::Status(code, vec![], format!("status {code}"))
}

#[tokio::test]
async fn retryable_statuses_then_success() {
    for wire in [Wire::OpenAi, Wire::Anthropic] {
        let script = vec![status(500), status(502), status(503), status(529)];
        let (p, r, _) = run(wire, script).await;
        let reply = r.unwrap();
        assert_eq!(reply.attempts, 5);
        assert_eq!(p.requests(), 5);
        assert_eq!(reply.text, "echo: hello");
    }
    let (p, r, _) = run(Wire::OpenAi, vec![status(408), status(504)]).await;
    assert_eq!(r.unwrap().attempts, 3);
    assert_eq!(p.requests(), 3);
}

#[tokio::test]
async fn five_failures_is_provider_unavailable() {
    let script = (0..6).map(|_| status(503)).collect();
    let (p, r, _) = run(Wire::OpenAi, script).await;
    match r {
        Err(Error::ProviderUnavailable { attempts, last }) => {
            assert_eq!(attempts, 5);
            assert!(last.contains("503"), "{last}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.requests(), 5);
}

#[tokio::test]
async fn retry_after_seconds_and_ms_are_honoured() {
    let s429 = Step::Status(
        429,
        vec![("retry-after", "1".into())],
        "rate limited".into(),
    );
    let (p, r, took) = run(Wire::OpenAi, vec![s429]).await;
    assert_eq!(r.unwrap().attempts, 2);
    assert_eq!(p.requests(), 2);
    assert!(took >= Duration::from_millis(990), "waited only {took:?}");

    let ms = Step::Status(429, vec![("retry-after-ms", "150".into())], "slow".into());
    let (_, r, took) = run(Wire::Anthropic, vec![ms]).await;
    assert_eq!(r.unwrap().attempts, 2);
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(1),
        "{took:?}"
    );

    // A wait beyond the budget (5 s in tests) ends the call at once.
    let far = Step::Status(
        429,
        vec![("retry-after", "3600".into())],
        "come back later".into(),
    );
    let (p, r, took) = run(Wire::OpenAi, vec![far]).await;
    assert!(
        matches!(r, Err(Error::ProviderUnavailable { attempts: 1, .. })),
        "{r:?}"
    );
    assert_eq!(p.requests(), 1);
    assert!(took < Duration::from_secs(1));
}

#[tokio::test]
async fn timeout_is_retried_then_typed() {
    let (p, r, _) = run(Wire::OpenAi, vec![Step::Hang(Duration::from_secs(3))]).await;
    assert_eq!(r.unwrap().attempts, 2);
    assert_eq!(p.requests(), 2);

    let hangs = (0..5).map(|_| Step::Hang(Duration::from_secs(3))).collect();
    let (p, r, took) = run(Wire::Anthropic, hangs).await;
    match r {
        Err(Error::Timeout { attempts, .. }) => assert_eq!(attempts, 5),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.requests(), 5);
    // five 500 ms attempts plus tiny waits
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn reset_and_truncated_body_are_retried() {
    let (p, r, _) = run(Wire::OpenAi, vec![Step::Reset, Step::Truncated]).await;
    assert_eq!(r.unwrap().attempts, 3);
    assert_eq!(p.requests(), 3);

    let script = (0..5).map(|_| Step::Reset).collect();
    let (_, r, _) = run(Wire::Anthropic, script).await;
    assert!(
        matches!(r, Err(Error::ProviderUnavailable { attempts: 5, .. })),
        "{r:?}"
    );
}

#[tokio::test]
async fn non_json_body_is_invalid_response_without_retry() {
    let (p, r, _) = run(Wire::OpenAi, vec![Step::NotJson]).await;
    assert!(
        matches!(r, Err(Error::InvalidResponse(ref m)) if m.contains("not JSON")),
        "{r:?}"
    );
    assert_eq!(p.requests(), 1);
}

#[tokio::test]
async fn bad_request_fails_at_once_with_the_provider_message() {
    let s400 = Step::Status(400, vec![], "max_tokens: must be positive".into());
    let (p, r, _) = run(Wire::Anthropic, vec![s400]).await;
    match r {
        Err(Error::ProviderRejected { status, message }) => {
            assert_eq!(status, 400);
            assert_eq!(message, "max_tokens: must be positive");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.requests(), 1);
}

#[tokio::test]
async fn unauthorized_is_not_retried_and_never_shows_the_key() {
    let echo = format!("Incorrect API key provided: {SECRET}. Bearer {SECRET}");
    let (p, r, _) = run(Wire::OpenAi, vec![Step::Status(401, vec![], echo)]).await;
    let e = r.unwrap_err();
    assert!(matches!(e, Error::ProviderRejected { status: 401, .. }));
    assert_eq!(p.requests(), 1);
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
    // The key did reach the provider, in the right header.
    assert_eq!(
        p.seen()[0].header("authorization"),
        Some(&*format!("Bearer {SECRET}"))
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_unavailable() {
    let p = TestProvider::start(Wire::OpenAi, vec![]).await;
    let mut t = tier("t", "m", &p, 1.0, 1.0);
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    t.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    let client = builder(vec![t]).build().unwrap();
    let start = Instant::now();
    let r = client.chat(ChatRequest::user("hi")).await;
    assert!(
        matches!(r, Err(Error::ProviderUnavailable { attempts: 5, .. })),
        "{r:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}
