//! Log segments: on SQLite, the encoded records of each log chunk are appended to numbered
//! files in a directory beside the database (`<main file>-logs.d/`), and the chunk's row
//! in the log database says where they are (segment, offset, length). A history read is
//! then one `pread` per run of adjacent chunks straight into the buffer that goes out,
//! as a static file server reads, instead of SQLite assembling each blob from its pages
//! and the driver copying it twice more.
//!
//! The writer appends a batch, `fdatasync`s it, and only then is the batch's rows
//! committed, so a committed row never points past what is on disk. Bytes written for a
//! batch whose commit then failed stay in the file unreferenced (a later batch appends
//! after them); a write that failed half-way is cut off again.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// A segment is closed for appends once it holds this much.
pub const SEGMENT_BYTES: u64 = 1 << 30;

/// Most bytes one read of adjacent chunks covers.
const READ_BYTES: u64 = 4 << 20;

/// Where records of one chunk are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// The segment's number.
    pub segment: u32,
    /// Offset in the segment.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// The segment directory of the main database file `main`.
pub fn dir_for(main: &Path) -> PathBuf {
    let mut name = main.as_os_str().to_owned();
    name.push("-logs.d");
    PathBuf::from(name)
}

fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:08}.seg"))
}

/// The appending end: the newest segment, open for writes.
#[derive(Debug)]
pub struct SegmentWriter {
    dir: PathBuf,
    segment: u32,
    file: File,
    /// Bytes in `file` (referenced or not): where the next append goes.
    len: u64,
}

impl SegmentWriter {
    /// Opens the newest segment in `dir` (creating the directory and the first segment).
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let newest = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                name.to_str()?.strip_suffix(".seg")?.parse::<u32>().ok()
            })
            .max()
            .unwrap_or(1);
        Self::open_segment(dir, newest)
    }

    fn open_segment(dir: &Path, segment: u32) -> io::Result<Self> {
        let path = segment_path(dir, segment);
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        if created {
            // The new name must survive a crash as well as what is written into it.
            File::open(dir)?.sync_all()?;
        }
        let len = file.metadata()?.len();
        Ok(Self {
            dir: dir.to_owned(),
            segment,
            file,
            len,
        })
    }

    /// Appends `parts` one after the other and makes them durable; answers where each went.
    pub fn append(&mut self, parts: &[&[u8]]) -> io::Result<Vec<Extent>> {
        if self.len >= SEGMENT_BYTES {
            *self = Self::open_segment(&self.dir, self.segment + 1)?;
        }
        let start = self.len;
        let mut at = start;
        let mut out = Vec::with_capacity(parts.len());
        let written = parts.iter().try_for_each(|p| {
            self.file.write_all_at(p, at)?;
            out.push(Extent {
                segment: self.segment,
                offset: at,
                len: p.len() as u64,
            });
            at += p.len() as u64;
            Ok::<_, io::Error>(())
        });
        match written.and_then(|()| self.file.sync_data()) {
            Ok(()) => {
                self.len = at;
                Ok(out)
            }
            Err(e) => {
                // Cut off what part of the batch got in; the next append starts there.
                let _ = self.file.set_len(start);
                Err(e)
            }
        }
    }
}

/// The reading end: segments opened on first use and kept open.
#[derive(Debug)]
pub struct SegmentReader {
    dir: PathBuf,
    /// Open segments by number.
    open: Mutex<HashMap<u32, Arc<File>>>,
}

impl SegmentReader {
    /// Segments in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn file(&self, segment: u32) -> io::Result<Arc<File>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = open.get(&segment) {
            return Ok(f.clone());
        }
        let f = Arc::new(File::open(segment_path(&self.dir, segment))?);
        open.insert(segment, f.clone());
        Ok(f)
    }

    /// The bytes of each extent, in order: adjacent extents of a segment are read
    /// together (up to [`READ_BYTES`] at once) and handed out as slices of that read. A
    /// failed read fails each extent it covered.
    pub async fn read(&self, extents: &[Extent]) -> Vec<io::Result<Bytes>> {
        let mut out = Vec::with_capacity(extents.len());
        let mut i = 0;
        while i < extents.len() {
            let first = extents[i];
            let mut end = first.offset + first.len;
            let mut j = i + 1;
            while let Some(next) = extents.get(j) {
                if next.segment != first.segment
                    || next.offset != end
                    || end + next.len - first.offset > READ_BYTES
                {
                    break;
                }
                end += next.len;
                j += 1;
            }
            match self.read_run(first.segment, first.offset, end).await {
                Ok(run) => out.extend(extents[i..j].iter().map(|e| {
                    let from = (e.offset - first.offset) as usize;
                    Ok(run.slice(from..from + e.len as usize))
                })),
                Err(err) => out.extend(
                    extents[i..j]
                        .iter()
                        .map(|_| Err(io::Error::new(err.kind(), err.to_string()))),
                ),
            }
            i = j;
        }
        out
    }

    async fn read_run(&self, segment: u32, from: u64, to: u64) -> io::Result<Bytes> {
        let file = self.file(segment)?;
        let len = usize::try_from(to - from).map_err(io::Error::other)?;
        crate::pread::read_at(&file, from, len).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(r: &SegmentReader, extents: &[Extent]) -> Vec<Bytes> {
        r.read(extents)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }

    #[tokio::test]
    async fn appended_parts_read_back_whole_and_adjacent_ones_in_one_piece() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::open(dir.path()).unwrap();
        let a = w.append(&[b"alpha", b"", b"beta"]).unwrap();
        let b = w.append(&[b"gamma"]).unwrap();
        assert_eq!(
            a.iter()
                .chain(&b)
                .map(|e| (e.offset, e.len))
                .collect::<Vec<_>>(),
            vec![(0, 5), (5, 0), (5, 4), (9, 5)]
        );
        let r = SegmentReader::new(dir.path().to_owned());
        let all: Vec<Extent> = a.iter().chain(&b).copied().collect();
        assert_eq!(
            read_all(&r, &all).await,
            vec![&b"alpha"[..], b"", b"beta", b"gamma"]
        );
        // Out of order and apart: each read on its own.
        assert_eq!(
            read_all(&r, &[all[3], all[0]]).await,
            vec![&b"gamma"[..], b"alpha"]
        );
    }

    #[tokio::test]
    async fn a_reopened_writer_appends_after_everything_in_the_newest_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::open(dir.path()).unwrap();
        w.append(&[b"kept"]).unwrap();
        // Bytes a batch wrote before its commit failed: never referenced, never overwritten.
        w.append(&[b"orphan"]).unwrap();
        drop(w);
        let mut w = SegmentWriter::open(dir.path()).unwrap();
        let e = w.append(&[b"next"]).unwrap();
        assert_eq!((e[0].segment, e[0].offset), (1, 10));
        let r = SegmentReader::new(dir.path().to_owned());
        assert_eq!(read_all(&r, &e).await, vec![&b"next"[..]]);
    }

    #[tokio::test]
    async fn a_full_segment_is_followed_by_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::open(dir.path()).unwrap();
        w.append(&[b"old"]).unwrap();
        // As if the first segment had reached its size.
        w.len = SEGMENT_BYTES;
        let e = w.append(&[b"new"]).unwrap();
        assert_eq!((e[0].segment, e[0].offset), (2, 0));
        assert!(segment_path(dir.path(), 2).is_file());
        let mut w = SegmentWriter::open(dir.path()).unwrap();
        assert_eq!(w.append(&[b"more"]).unwrap()[0].segment, 2);
        let r = SegmentReader::new(dir.path().to_owned());
        assert_eq!(read_all(&r, &e).await, vec![&b"new"[..]]);
    }

    #[tokio::test]
    async fn a_missing_segment_or_a_short_one_fails_only_its_own_extents() {
        let dir = tempfile::tempdir().unwrap();
        let r = SegmentReader::new(dir.path().to_owned());
        let mut w = SegmentWriter::open(dir.path()).unwrap();
        let e = w.append(&[b"abc", b"def"]).unwrap();
        let missing = Extent {
            segment: 7,
            offset: 0,
            len: 1,
        };
        let short = Extent { len: 10, ..e[1] };
        let got = r.read(&[e[0], missing, short]).await;
        assert_eq!(&got[0].as_ref().unwrap()[..], b"abc");
        assert_eq!(got[1].as_ref().unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(
            got[2].as_ref().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
