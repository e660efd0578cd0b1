//! A file read as a stream of chunks for a response body, with as few thread hand-offs
//! as a static file server makes.
//!
//! Each chunk is first read on the runtime thread that writes the response, with
//! `preadv2(RWF_NOWAIT)`: the kernel copies it from the page cache, or says at once that
//! it would have to wait for the disk. Only then does the rest of the chunk go to tokio's
//! blocking pool. A hand-off per chunk (wake a pool thread, wake the task back) costs
//! next to nothing on an idle machine but a scheduler slice each on a busy one: on a
//! loaded 2-core machine a pool-only reader fell at times to a tenth of the speed of
//! Python's `http.server`, which reads and writes on one thread.

use std::fs::File;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures::Stream;
use tokio::task::JoinHandle;

use crate::pread::{finish_blocking, read_cached, Cached};

/// Bytes per chunk: few polls and syscalls per megabyte; at most one chunk is in flight
/// (hyper stops polling the body while its write queue is full), so a download holds
/// about this much memory.
pub const CHUNK: usize = 512 * 1024;

/// `len` bytes of a file from an offset, as a stream of chunks of [`CHUNK`] bytes.
#[derive(Debug)]
pub struct FileChunks {
    file: Arc<File>,
    /// Offset of the next chunk.
    at: u64,
    /// Offset past the last byte.
    end: u64,
    /// Whether `RWF_NOWAIT` reads work here (not on kernels before 4.14 or on some file
    /// systems); when not, every chunk is read on the blocking pool.
    nowait: bool,
    /// A chunk being finished on the blocking pool.
    reading: Option<JoinHandle<io::Result<Bytes>>>,
}

impl FileChunks {
    /// The bytes `start..start + len` of `file`.
    pub fn new(file: File, start: u64, len: u64) -> Self {
        Self {
            file: Arc::new(file),
            at: start,
            end: start.saturating_add(len),
            nowait: true,
            reading: None,
        }
    }
}

impl Stream for FileChunks {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.reading.is_none() {
            if this.at >= this.end {
                return Poll::Ready(None);
            }
            let at = this.at;
            let n = (this.end - at).min(CHUNK as u64) as usize;
            this.at += n as u64;
            let (buf, got) = if this.nowait {
                match read_cached(&this.file, at, n) {
                    Ok(Cached::Whole(bytes)) => return Poll::Ready(Some(Ok(bytes))),
                    Ok(Cached::Part {
                        buf,
                        got,
                        unsupported,
                    }) => {
                        this.nowait = !unsupported;
                        (buf, got)
                    }
                    Err(e) => {
                        this.at = this.end;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            } else {
                (vec![0u8; n], 0)
            };
            this.reading = Some(finish_blocking(this.file.clone(), at, buf, got));
        }
        let reading = this.reading.as_mut().expect("a read in flight");
        let done = ready!(Pin::new(reading).poll(cx));
        this.reading = None;
        let read = done.unwrap_or_else(|e| Err(io::Error::other(e)));
        if read.is_err() {
            this.at = this.end;
        }
        Poll::Ready(Some(read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt as _;

    async fn collect(file: File, start: u64, len: u64) -> io::Result<Vec<u8>> {
        let chunks: Vec<Bytes> = FileChunks::new(file, start, len).try_collect().await?;
        Ok(chunks.concat())
    }

    #[tokio::test]
    async fn chunks_hold_exactly_the_asked_bytes_across_chunk_bounds() {
        let data: Vec<u8> = (0..CHUNK * 2 + 123).map(|i| (i * 7 % 251) as u8).collect();
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &data).unwrap();
        let open = || File::open(tmp.path()).unwrap();
        let len = data.len() as u64;
        assert_eq!(collect(open(), 0, len).await.unwrap(), data);
        assert_eq!(
            collect(open(), 5, CHUNK as u64).await.unwrap(),
            &data[5..5 + CHUNK]
        );
        assert_eq!(
            collect(open(), len - 1, 1).await.unwrap(),
            &data[data.len() - 1..]
        );
        assert!(collect(open(), 0, 0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_chunk_the_page_cache_lacks_is_finished_on_the_blocking_pool() {
        let data: Vec<u8> = (0..CHUNK + 10).map(|i| (i % 253) as u8).collect();
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &data).unwrap();
        let file = Arc::new(File::open(tmp.path()).unwrap());
        let mut head = vec![0u8; 100];
        head[..7].copy_from_slice(&data[3..10]);
        let got = finish_blocking(file, 3, head, 7).await.unwrap().unwrap();
        assert_eq!(&got[..], &data[3..103]);
    }

    #[tokio::test]
    async fn a_file_shorter_than_asked_ends_the_stream_with_an_error() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"short").unwrap();
        let err = collect(File::open(tmp.path()).unwrap(), 0, 10)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
