//! The complete stdout and stderr of one execution, as files, for its published result.
//! The log sink copies every output byte here as it arrives (up to a per-stream cap), so
//! a publisher packs what the program printed rather than the bounded `RunOutput` copy.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::model::LogStream;

/// Two files, `stdout` and `stderr`, in one directory. Writes are synchronous and
/// buffered: they land in the page cache, as the log ring's copies land in memory.
#[derive(Debug)]
pub struct OutputSpool {
    dir: PathBuf,
    cap: u64,
    streams: [Mutex<SpoolFile>; 2],
}

#[derive(Debug)]
struct SpoolFile {
    out: Option<BufWriter<File>>,
    written: u64,
    truncated: bool,
    failed: Option<String>,
}

impl SpoolFile {
    fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: Some(BufWriter::with_capacity(64 * 1024, File::create(path)?)),
            written: 0,
            truncated: false,
            failed: None,
        })
    }
}

fn idx(stream: LogStream) -> usize {
    match stream {
        LogStream::Stdout => 0,
        LogStream::Stderr => 1,
    }
}

impl OutputSpool {
    /// Creates `dir` with empty `stdout` and `stderr` files; each keeps at most `cap` bytes.
    pub fn create(dir: &Path, cap: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            cap,
            streams: [
                Mutex::new(SpoolFile::open(&dir.join("stdout"))?),
                Mutex::new(SpoolFile::open(&dir.join("stderr"))?),
            ],
        })
    }

    fn lock(&self, stream: LogStream) -> MutexGuard<'_, SpoolFile> {
        self.streams[idx(stream)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Appends output of one stream; past the cap the rest is counted as cut.
    pub fn write(&self, stream: LogStream, bytes: &[u8]) {
        let cap = self.cap;
        let mut f = self.lock(stream);
        let room = cap.saturating_sub(f.written);
        let take = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if take < bytes.len() {
            f.truncated = true;
        }
        if take == 0 {
            return;
        }
        let Some(out) = f.out.as_mut() else { return };
        match out.write_all(&bytes[..take]) {
            Ok(()) => f.written += take as u64,
            Err(e) => {
                f.failed = Some(format!("keeping {stream:?} failed: {e}"));
                f.out = None;
            }
        }
    }

    /// Flushes both files; an error names the stream that could not be kept whole.
    pub fn finish(&self) -> anyhow::Result<()> {
        for stream in [LogStream::Stdout, LogStream::Stderr] {
            let mut f = self.lock(stream);
            if let Some(out) = f.out.as_mut() {
                if let Err(e) = out.flush() {
                    f.failed = Some(format!("keeping {stream:?} failed: {e}"));
                    f.out = None;
                }
            }
            if let Some(why) = &f.failed {
                anyhow::bail!("{why}");
            }
        }
        Ok(())
    }

    /// The file holding `stream`.
    pub fn path(&self, stream: LogStream) -> PathBuf {
        self.dir.join(match stream {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        })
    }

    /// Whether `stream` went past the cap.
    pub fn truncated(&self, stream: LogStream) -> bool {
        self.lock(stream).truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_keeps_each_stream_whole_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let spool = OutputSpool::create(dir.path(), 10).unwrap();
        spool.write(LogStream::Stdout, b"hello ");
        spool.write(LogStream::Stderr, b"oops");
        spool.write(LogStream::Stdout, b"world, and more");
        spool.finish().unwrap();
        let read = |s| std::fs::read_to_string(spool.path(s)).unwrap();
        assert_eq!(read(LogStream::Stdout), "hello worl");
        assert_eq!(read(LogStream::Stderr), "oops");
        assert!(spool.truncated(LogStream::Stdout));
        assert!(!spool.truncated(LogStream::Stderr));
    }
}
