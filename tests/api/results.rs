//! `GET`/`HEAD /results/{job}/{execution}.tar.gz`: the published tarball byte for byte,
//! single byte ranges (206, 416), validators (strong `ETag`, `Last-Modified`) and the
//! conditional requests they answer (304, 412), over a real server and a real published
//! result.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A server with one published Local result of a bit over a megabyte (random bytes, so
/// several read chunks): the app, the result's path and the file's bytes on disk.
async fn published() -> (TestApp, String, Vec<u8>) {
    let app = spawn_app().await;
    let spec = json!({
        "Engine": "Exec",
        "Deal": {"Concurrency": 1},
        "PublisherSpec": {"Type": "Local"},
        "Exec": {"Command": ["sh", "-c", "head -c 1300000 /dev/urandom > \"$HAKE_OUTPUTS/out/random.bin\""]},
        "outputs": [{"Name": "out", "path": "/outputs"}],
    });
    let job = app.submit_ok(spec).await;
    let state = app.wait_terminal(&job, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let exec = state["Executions"][0]["ComputeReference"].as_str().unwrap();
    let file = app
        .dir
        .path()
        .join("data/results")
        .join(&job)
        .join(format!("{exec}.tar.gz"));
    let bytes = std::fs::read(&file).expect("the published tarball");
    assert!(bytes.len() > 1_300_000, "{} bytes", bytes.len());
    (app, format!("/results/{job}/{exec}.tar.gz"), bytes)
}

/// The answer to a request of `path` with `headers`: status, headers, body.
async fn ask(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&'static str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = app.http.request(method, app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request sent");
    let (status, h) = (resp.status(), resp.headers().clone());
    (status, h, resp.bytes().await.expect("body").to_vec())
}

fn text(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {h:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_full_download_is_the_published_file_byte_for_byte_with_a_stable_strong_etag() {
    let (app, path, file) = published().await;
    let (status, h, body) = ask(&app, Method::GET, &path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == file, "the body differs from the file");
    assert_eq!(text(&h, "content-length"), file.len().to_string());
    assert_eq!(text(&h, "content-type"), "application/gzip");
    assert_eq!(text(&h, "accept-ranges"), "bytes");
    let etag = text(&h, "etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "a strong tag, not W/: {etag}"
    );
    let modified = httpdate::parse_http_date(&text(&h, "last-modified")).unwrap();
    let on_disk = std::fs::metadata(app.dir.path().join("data").join(&path[1..]))
        .unwrap()
        .modified()
        .unwrap();
    let off = on_disk.duration_since(modified).unwrap();
    assert!(off.as_secs() < 1, "Last-Modified is the file's mtime");

    let (_, again, _) = ask(&app, Method::GET, &path, &[]).await;
    assert_eq!(text(&again, "etag"), etag, "the same file keeps its tag");
}

#[tokio::test]
async fn range_request_gets_206_with_content_range_and_those_bytes() {
    let (app, path, file) = published().await;
    let len = file.len();
    for (first, last) in [(0, 0), (100, 1099), (500_000, 1_100_000)] {
        let (status, h, body) = ask(
            &app,
            Method::GET,
            &path,
            &[("range", &format!("bytes={first}-{last}"))],
        )
        .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            text(&h, "content-range"),
            format!("bytes {first}-{last}/{len}")
        );
        assert_eq!(text(&h, "content-length"), (last - first + 1).to_string());
        assert!(body == file[first..=last], "bytes {first}-{last} differ");
        assert!(h.contains_key("etag"));
    }
    // A last byte past the end is cut to the end.
    let (status, h, body) = ask(
        &app,
        Method::GET,
        &path,
        &[("range", "bytes=1000-999999999")],
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        text(&h, "content-range"),
        format!("bytes 1000-{}/{len}", len - 1)
    );
    assert!(body == file[1000..]);
}

#[tokio::test]
async fn suffix_and_open_ended_ranges_get_the_end_of_the_file() {
    let (app, path, file) = published().await;
    let len = file.len();
    let (status, h, body) = ask(&app, Method::GET, &path, &[("range", "bytes=-500")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        text(&h, "content-range"),
        format!("bytes {}-{}/{len}", len - 500, len - 1)
    );
    assert!(body == file[len - 500..]);
    // A suffix longer than the file is the whole file.
    let (status, _, body) = ask(&app, Method::GET, &path, &[("range", "bytes=-99999999")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == file);
    let from = len - 12345;
    let (status, _, body) = ask(
        &app,
        Method::GET,
        &path,
        &[("range", &format!("bytes={from}-"))],
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == file[from..]);
}

#[tokio::test]
async fn an_unsatisfiable_range_gets_416_with_the_json_error_and_the_length() {
    let (app, path, file) = published().await;
    let len = file.len();
    for range in [format!("bytes={len}-"), "bytes=-0".to_owned()] {
        let (status, h, body) = ask(&app, Method::GET, &path, &[("range", &range)]).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(text(&h, "content-range"), format!("bytes */{len}"));
        assert_eq!(text(&h, "content-type"), "application/json");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "range-not-satisfiable", "{body}");
        assert_eq!(body["details"]["length"], len, "{body}");
    }
}

#[tokio::test]
async fn malformed_ranges_and_several_ranges_get_the_whole_file() {
    let (app, path, file) = published().await;
    for range in ["bytes=5-2", "bytes=abc", "lines=0-10", "bytes=0-10,20-30"] {
        let (status, h, body) = ask(&app, Method::GET, &path, &[("range", range)]).await;
        assert_eq!(status, StatusCode::OK, "{range}");
        assert!(!h.contains_key("content-range"), "{range}");
        assert!(body == file, "{range}: the whole file");
    }
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_gets_304_without_a_body() {
    let (app, path, file) = published().await;
    let (_, h, _) = ask(&app, Method::GET, &path, &[]).await;
    let (etag, modified) = (text(&h, "etag"), text(&h, "last-modified"));
    let (status, h, body) = ask(&app, Method::GET, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(text(&h, "etag"), etag);
    let listed = format!("\"other\", W/{etag}");
    let (status, _, _) = ask(&app, Method::GET, &path, &[("if-none-match", &listed)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED, "compared weakly");
    let (status, _, body) = ask(&app, Method::GET, &path, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == file);
    let (status, _, body) = ask(
        &app,
        Method::GET,
        &path,
        &[("if-modified-since", &modified)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    let (status, _, _) = ask(
        &app,
        Method::GET,
        &path,
        &[
            ("if-none-match", "\"other\""),
            ("if-modified-since", &modified),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "If-None-Match wins over the date");
}

#[tokio::test]
async fn if_range_sends_the_range_only_while_the_etag_still_names_the_file() {
    let (app, path, file) = published().await;
    let (_, h, _) = ask(&app, Method::GET, &path, &[]).await;
    let etag = text(&h, "etag");
    let range = ("range", "bytes=10-19");
    let (status, _, body) = ask(&app, Method::GET, &path, &[range, ("if-range", &etag)]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == file[10..20]);
    let (status, _, body) = ask(
        &app,
        Method::GET,
        &path,
        &[range, ("if-range", "\"stale\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == file, "a changed file is sent whole");
}

#[tokio::test]
async fn if_match_with_another_etag_gets_412() {
    let (app, path, _) = published().await;
    let (status, _, body) = ask(&app, Method::GET, &path, &[("if-match", "\"other\"")]).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "precondition-failed", "{body}");
}

#[tokio::test]
async fn head_gives_the_length_and_validators_without_a_body() {
    let (app, path, file) = published().await;
    let (status, h, body) = ask(&app, Method::HEAD, &path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(text(&h, "content-length"), file.len().to_string());
    assert_eq!(text(&h, "accept-ranges"), "bytes");
    assert!(h.contains_key("etag") && h.contains_key("last-modified"));
    let (status, h, _) = ask(&app, Method::HEAD, &path, &[("range", "bytes=0-9")]).await;
    assert_eq!(status, StatusCode::OK, "Range is for GET only");
    assert_eq!(text(&h, "content-length"), file.len().to_string());
}
