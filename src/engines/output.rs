//! Reading a program's output streams into the execution's log sink.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::logs::LogSink;
use crate::model::LogStream;

/// Copies `reader` into `sink` as `stream` until EOF. The sink splits lines.
pub async fn pump_lines<R: AsyncRead + Unpin>(mut reader: R, stream: LogStream, sink: LogSink) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => sink.write(stream, &buf[..n]),
            Err(e) => {
                tracing::debug!(error = %e, ?stream, "output stream read failed");
                break;
            }
        }
    }
    sink.flush(stream);
}
