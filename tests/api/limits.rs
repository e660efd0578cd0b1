//! Abuse limits and connection hygiene: the per-IP rate limit, the header and idle
//! timeouts of connections, and the request timeout of non-streaming routes.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::*;

async fn post_version(http: &reqwest::Client, app: &TestApp) -> reqwest::Response {
    http.post(app.url("/version"))
        .body("{}")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_over_the_rate_limit_gets_429_json_with_retry_after() {
    let app = spawn_with(|c| c.rate_limit = 2).await;
    // Eight at once: the burst of two passes, the rest are limited (a slow machine may
    // let one more through per half second the burst takes).
    let started = Instant::now();
    let answers = futures::future::join_all((0..8).map(|_| post_version(&app.http, &app))).await;
    let allowed = 2 + (started.elapsed().as_secs_f64() * 2.0).ceil() as usize;
    let mut limited = None;
    let mut ok = 0;
    for r in answers {
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited.get_or_insert(r);
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        (2..=allowed).contains(&ok),
        "a burst of 2 passes, then the limit bites: {ok}"
    );
    let r = limited.expect("some requests were limited");
    assert_eq!(r.headers()["content-type"], "application/json");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate-limited");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("too many requests"));

    // Probes and scrapes are never limited.
    for path in ["/livez", "/readyz", "/metrics"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // Another address has its own budget.
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    assert_eq!(post_version(&other, &app).await.status(), StatusCode::OK);
    // After Retry-After the first client may come back.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(post_version(&app.http, &app).await.status(), StatusCode::OK);

    let metrics = app.get_text("/metrics").await;
    assert!(
        metrics.contains(r#"hake_http_requests_total{route="/version",status="429"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn without_a_rate_limit_a_burst_is_served() {
    let app = spawn_app().await;
    for _ in 0..50 {
        assert_eq!(post_version(&app.http, &app).await.status(), StatusCode::OK);
    }
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the connection was still open after {limit:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_disconnected() {
    let app = spawn_with(|c| c.header_timeout_secs = 1).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"POST /version HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, took) = read_until_closed(&mut s, Duration::from_secs(10)).await;
    assert!(
        took >= Duration::from_millis(800),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = spawn_with(|c| c.header_timeout_secs = 1).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(10)).await;
    assert!(got.is_empty(), "{got}");
    assert!(
        took >= Duration::from_millis(800),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_long_poll_outlives_the_header_timeout_then_the_idle_connection_is_closed() {
    let app = spawn_with(|c| c.header_timeout_secs = 1).await;
    let id = app.submit_ok(exec_spec(&["sleep", "30"])).await;
    let version = app.state(&id).await["Version"].as_i64().unwrap();
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let body = json!({"job_id": id, "after_version": version + 100, "wait_seconds": 3}).to_string();
    let req = format!(
        "POST /requester/states HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let started = Instant::now();
    s.write_all(req.as_bytes()).await.unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(15)).await;
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
    assert!(got.contains(&id), "{got}");
    // The answer came after the 3 s wait, and the keep-alive connection was then closed
    // after about a second of idleness.
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_request_past_the_request_timeout_gets_408_json() {
    let app = spawn_with(|c| c.request_timeout_secs = 1).await;
    let id = app.submit_ok(exec_spec(&["sleep", "30"])).await;
    let started = Instant::now();
    let (status, body) = app
        .post(
            "/requester/states",
            &json!({"job_id": id, "after_version": 1000, "wait_seconds": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(body["code"], "request-timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
}
