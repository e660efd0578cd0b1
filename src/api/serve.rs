//! The HTTP server loop: accepts TCP connections and serves each with hyper's HTTP/1.1
//! server, with the connection hygiene a public port needs:
//!
//! - a client must send a request's headers within `--header-timeout-secs`, or its
//!   connection is closed (slow-header attacks). The same timer runs while a connection
//!   waits for its first request and between keep-alive requests, so silent and idle
//!   connections are closed after that long too; it does not run while a request is being
//!   handled or its answer streamed;
//! - on shutdown the listener stops accepting, every connection finishes the request it
//!   is serving and closes, and [`serve`] returns once all are gone (callers bound that
//!   wait with the grace period).
//!
//! Each request carries the peer address as axum's `ConnectInfo<SocketAddr>`, which the
//! rate limiter keys on.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Time to send a request's headers; also how long a connection may wait for its next
    /// request.
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` until `stop` fires, then closes every connection
/// gracefully and returns when the last one is gone.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    opts: ServeOptions,
    stop: CancellationToken,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        .keep_alive(true);
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: the
                    // listener itself is fine, so wait a moment and go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "setting TCP_NODELAY failed");
        }
        connections.spawn(connection(
            stream,
            peer,
            router.clone(),
            builder.clone(),
            stop.clone(),
        ));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Serves one connection until it ends or, after `stop`, until its current request is
/// answered.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: http1::Builder,
    stop: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = stop.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
