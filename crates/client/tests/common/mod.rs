//! A scripted test provider on 127.0.0.1 that speaks the OpenAI Chat Completions and Anthropic
//! Messages wire formats over real HTTP/1.1 (keep-alive), with faults: error statuses with
//! headers, hangs, connection resets, truncated bodies and non-JSON bodies.
#![allow(dead_code)]
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the provider does with one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// 200 with a well-formed body; the text echoes the last user message.
    Ok,
    /// 200 with this usage (OpenAI: prompt, completion, cached; Anthropic: uncached input,
    /// output, cache write, cache read).
    OkUsage(u64, u64, u64, u64),
    /// An error status with extra headers and a JSON error message.
    Status(u16, Vec<(&'static str, String)>, String),
    /// Wait, then answer `Ok` (a timeout when the client gives up first).
    Hang(Duration),
    /// Close the connection without answering (reset).
    Reset,
    /// Announce a longer body than is sent, then close.
    Truncated,
    /// 200 with a body that is not JSON.
    NotJson,
}

/// One request as the provider saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wire {
    OpenAi,
    Anthropic,
}

struct State {
    wire: Wire,
    script: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<Seen>>,
    delay: Duration,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running provider.
#[derive(Clone)]
pub struct TestProvider {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl TestProvider {
    /// Start a provider; `script` is played in order, then every request gets `Ok`.
    pub async fn start(wire: Wire, script: Vec<Step>) -> Self {
        Self::start_with_delay(wire, script, Duration::ZERO).await
    }

    /// As `start`, with a fixed delay before every answer.
    pub async fn start_with_delay(wire: Wire, script: Vec<Step>, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            wire,
            script: Mutex::new(script.into()),
            seen: Mutex::new(Vec::new()),
            delay,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, st.clone()));
            }
        });
        TestProvider { addr, state }
    }

    /// The base URL for a tier (`/v1` for OpenAI, the host for Anthropic).
    pub fn base_url(&self) -> String {
        match self.state.wire {
            Wire::OpenAi => format!("http://{}/v1", self.addr),
            Wire::Anthropic => format!("http://{}", self.addr),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.state.seen.lock().unwrap().len()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let total = head_end + 4 + len;
    while buf.len() < total {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end + 4..total]).unwrap_or(Value::Null);
    buf.drain(..total);
    Some(Seen {
        path,
        headers,
        body,
    })
}

fn last_user(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .map(|m| match &m["content"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

pub fn ok_body(wire: Wire, text: &str, usage: (u64, u64, u64, u64)) -> Value {
    let (a, b, c, d) = usage;
    match wire {
        Wire::OpenAi => json!({
            "id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": a, "completion_tokens": b, "total_tokens": a + b,
                      "prompt_tokens_details": {"cached_tokens": c}}
        }),
        Wire::Anthropic => json!({
            "id": "msg_test", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "usage": {"input_tokens": a, "output_tokens": b,
                      "cache_creation_input_tokens": c, "cache_read_input_tokens": d}
        }),
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    extra: &[(&str, String)],
    body: &[u8],
) -> bool {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(body).await.is_ok()
}

async fn serve(mut stream: TcpStream, st: Arc<State>) {
    let mut buf = Vec::new();
    while let Some(seen) = read_request(&mut stream, &mut buf).await {
        let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        st.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let text = format!("echo: {}", last_user(&seen.body));
        st.seen.lock().unwrap().push(seen);
        let step = st.script.lock().unwrap().pop_front().unwrap_or(Step::Ok);
        if !st.delay.is_zero() {
            tokio::time::sleep(st.delay).await;
        }
        let usage = |u| serde_json::to_vec(&ok_body(st.wire, &text, u)).unwrap();
        let keep = match step {
            Step::Ok => respond(&mut stream, 200, &[], &usage((20, 5, 0, 0))).await,
            Step::OkUsage(a, b, c, d) => respond(&mut stream, 200, &[], &usage((a, b, c, d))).await,
            Step::Status(code, headers, message) => {
                let body = json!({"type": "error", "error": {"type": "test", "message": message}});
                respond(&mut stream, code, &headers, body.to_string().as_bytes()).await
            }
            Step::Hang(d) => {
                tokio::time::sleep(d).await;
                respond(&mut stream, 200, &[], &usage((20, 5, 0, 0))).await
            }
            Step::Reset => {
                let _ = stream.set_zero_linger();
                false
            }
            Step::Truncated => {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{\"choices\": [")
                    .await;
                false
            }
            Step::NotJson => respond(&mut stream, 200, &[], b"<html>bad gateway</html>").await,
        };
        st.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !keep {
            return;
        }
    }
}

/// The key every test tier uses (the variable is set via `ClientBuilder::api_key`).
pub const SECRET: &str = "sk-test-SECRET-0123456789abcdef";

/// Fast retry settings for tests: tiny backoff, short timeouts, same attempt limit.
pub fn fast_retry() -> tierwise_client::RetryPolicy {
    tierwise_client::RetryPolicy {
        max_attempts: 5,
        total: Duration::from_secs(5),
        attempt_timeout: Duration::from_millis(500),
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
    }
}

/// A tier pointing at a test provider, priced in dollars per million tokens.
pub fn tier(
    name: &str,
    model: &str,
    p: &TestProvider,
    input: f64,
    output: f64,
) -> tierwise_core::Tier {
    let mut t = tierwise_core::Tier::new(name, model);
    t.provider = match p.state.wire {
        Wire::OpenAi => tierwise_core::Provider::OpenaiCompatible,
        Wire::Anthropic => tierwise_core::Provider::Anthropic,
    };
    t.base_url = Some(p.base_url());
    t.api_key_env = Some("TIERWISE_TEST_KEY".into());
    t.price = tierwise_core::Price {
        input,
        output,
        cache_read: None,
        cache_write: None,
    };
    t
}

/// A client over these tiers with fast retries and the test key.
pub fn builder(tiers: Vec<tierwise_core::Tier>) -> tierwise_client::ClientBuilder {
    tierwise_client::Client::builder()
        .tiers(tierwise_core::TierConfig { tiers })
        .retry(fast_retry())
        .api_key("TIERWISE_TEST_KEY", SECRET)
}
