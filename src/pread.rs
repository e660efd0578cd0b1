//! Reads of file ranges with as few thread hand-offs as a static file server makes: first
//! on the calling runtime thread with `preadv2(RWF_NOWAIT)` (the kernel copies what the
//! page cache holds, or says at once that it would wait for the disk), then the rest on
//! tokio's blocking pool. Result downloads and the SQLite store's log segments read this
//! way.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::sync::Arc;

use bytes::Bytes;
use rustix::io::{Errno, IoSliceMut, ReadWriteFlags};
use tokio::task::JoinHandle;

/// What a read from the page cache gave.
pub(crate) enum Cached {
    /// The whole chunk.
    Whole(Bytes),
    /// The first `got` bytes of `buf`; the rest would wait for the disk (or `RWF_NOWAIT`
    /// is not supported).
    Part {
        buf: Vec<u8>,
        got: usize,
        unsupported: bool,
    },
}

/// Reads `n` bytes at `at` as far as the page cache holds them.
pub(crate) fn read_cached(file: &File, at: u64, n: usize) -> io::Result<Cached> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let mut slice = [IoSliceMut::new(&mut buf[got..])];
        match rustix::io::preadv2(file, &mut slice, at + got as u64, ReadWriteFlags::NOWAIT) {
            Ok(0) => return Err(short()),
            Ok(k) => got += k,
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                return Ok(Cached::Part {
                    buf,
                    got,
                    unsupported: false,
                })
            }
            Err(Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => {
                return Ok(Cached::Part {
                    buf,
                    got,
                    unsupported: true,
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Cached::Whole(Bytes::from(buf)))
}

/// Reads the rest of a chunk on the blocking pool.
pub(crate) fn finish_blocking(
    file: Arc<File>,
    at: u64,
    mut buf: Vec<u8>,
    got: usize,
) -> JoinHandle<io::Result<Bytes>> {
    tokio::task::spawn_blocking(move || {
        file.read_exact_at(&mut buf[got..], at + got as u64)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    short()
                } else {
                    e
                }
            })?;
        Ok(Bytes::from(buf))
    })
}

fn short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file is shorter than when it was opened",
    )
}

/// `n` bytes of `file` at `at`: from the page cache on this thread when it holds them,
/// else finished on the blocking pool. A file shorter than that is an error.
pub async fn read_at(file: &Arc<File>, at: u64, n: usize) -> io::Result<Bytes> {
    match read_cached(file, at, n)? {
        Cached::Whole(bytes) => Ok(bytes),
        Cached::Part { buf, got, .. } => finish_blocking(file.clone(), at, buf, got)
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn read_at_gives_exactly_the_range_or_an_error_past_the_end() {
        let data: Vec<u8> = (0..300_000).map(|i| (i % 251) as u8).collect();
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &data).unwrap();
        let file = Arc::new(File::open(tmp.path()).unwrap());
        assert_eq!(
            &read_at(&file, 7, 200_000).await.unwrap()[..],
            &data[7..200_007]
        );
        assert!(read_at(&file, 0, 0).await.unwrap().is_empty());
        let err = read_at(&file, 299_990, 11).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
