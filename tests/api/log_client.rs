//! A client for `POST /requester/logs` in tests: signed payloads, and readers that take
//! an NDJSON or SSE body apart as its chunks arrive.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// A signed logs payload for `job` with `extra` fields merged in.
pub fn payload(app: &TestApp, job: &str, extra: Value) -> String {
    let mut p = json!({"ClientID": app.signer.client_id(), "JobID": job});
    if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    p.to_string()
}

/// Sends a signed logs request with extra headers (e.g. Accept, Last-Event-ID).
pub async fn open(app: &TestApp, payload: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url("/requester/logs"))
        .body(app.signer.envelope(payload));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("logs request sent")
}

/// Reads an NDJSON body frame by frame, as the chunks arrive.
pub struct Frames {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Frames {
    pub fn new(resp: reqwest::Response) -> Self {
        assert_eq!(resp.status(), StatusCode::OK);
        Self {
            resp,
            buf: Vec::new(),
        }
    }

    pub async fn next(&mut self) -> Option<Value> {
        let read = async {
            loop {
                if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = self.buf.drain(..=pos).collect();
                    return Some(serde_json::from_slice(&line).expect("each line is JSON"));
                }
                match self.resp.chunk().await {
                    Ok(Some(c)) => self.buf.extend_from_slice(&c),
                    _ => return None,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("a frame within 60 s")
    }

    pub async fn rest(mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(f) = self.next().await {
            out.push(f);
        }
        out
    }
}

pub async fn frames(app: &TestApp, job: &str, extra: Value) -> Vec<Value> {
    Frames::new(open(app, &payload(app, job, extra), &[]).await)
        .rest()
        .await
}

pub fn records(frames: &[Value]) -> Vec<&Value> {
    frames.iter().filter(|f| f["Tag"] != 0).collect()
}

pub fn texts(frames: &[Value]) -> Vec<String> {
    records(frames)
        .iter()
        .map(|f| f["Data"].as_str().unwrap().to_owned())
        .collect()
}

pub fn end(frames: &[Value]) -> &Value {
    let last = frames.last().expect("at least the End record");
    assert!(last["End"].is_object(), "the last record is End: {last}");
    assert_eq!(frames.iter().filter(|f| f.get("End").is_some()).count(), 1);
    &last["End"]
}

pub fn sh(script: &str) -> Value {
    exec_spec(&["sh", "-c", script])
}

/// One SSE event.
#[derive(Debug)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

pub struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    pub fn new(resp: reqwest::Response) -> Self {
        assert_eq!(resp.status(), StatusCode::OK);
        Self {
            resp,
            buf: String::new(),
        }
    }

    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..pos + 2).collect();
                let mut ev = Event {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        ev.id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        ev.event = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        ev.data.push_str(v);
                    }
                }
                return Some(ev);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk())
                .await
                .expect("an event within 60 s");
            match chunk {
                Ok(Some(c)) => self.buf.push_str(std::str::from_utf8(&c).unwrap()),
                _ => return None,
            }
        }
    }

    pub async fn rest(mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            out.push(e);
        }
        out
    }
}
