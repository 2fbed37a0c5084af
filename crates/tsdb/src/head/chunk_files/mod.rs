//! Full head chunks on disk: upstream's head chunk files, `<data dir>/chunks_head/000001`, …
//!
//! ```text
//! magic 0x0130BC91 (4 bytes, BE) | version 1 (1 byte) | padding (3 zero bytes)
//! then per chunk: series ref (8) | mint (8) | maxt (8) | encoding (1) | data length (uvarint)
//!                 | data | CRC32-Castagnoli of everything before it in the chunk (4, BE)
//! ```
//!
//! A chunk is addressed as upstream's `ChunkDiskMapperRef`: the file's sequence number in the
//! high 32 bits, the chunk's byte offset in the low 32 bits. Once a head chunk is full it is
//! written here and its in-memory copy dropped, so the head holds only each series' open chunk
//! plus a few words per full chunk.
//!
//! Chunks are read back with positioned reads rather than a memory map: a head chunk is a
//! couple of hundred bytes read once per query, the page cache keeps hot files in memory either
//! way, and reads need no `unsafe` and cannot fault on a file truncated underneath them. The
//! head's data is also all in the WAL: these files only spare the replay and the memory, so a
//! damaged file is deleted (with every later one) and the WAL fills the gap, as upstream does.

mod load;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::chunkenc::ChunkEncoding;
use crate::encoding::EncBuf;

pub(crate) use load::{Loaded, MappedChunk};

/// Upstream's `MagicHeadChunks`.
const MAGIC: u32 = 0x0130_BC91;
const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 8;
/// Series ref, mint, maxt and encoding: the fixed part before the length.
const META_LEN: usize = 8 + 8 + 8 + 1;
/// The widest 32-bit uvarint (upstream's `MaxChunkLengthFieldSize`).
const MAX_LEN_FIELD: usize = 5;
const CRC_LEN: usize = 4;
/// Upstream's `MaxHeadChunkMetaSize`: a chunk's bytes besides its data, at most.
const MAX_META_LEN: usize = META_LEN + MAX_LEN_FIELD + CRC_LEN;
/// Upstream's `MaxHeadChunkFileSize`.
const MAX_FILE_SIZE: u64 = 128 * 1024 * 1024;
/// Upstream's default write buffer: chunks are written in batches of about this size.
const WRITE_BUFFER: usize = 4 * 1024 * 1024;
/// The encoding bit upstream sets on out-of-order chunks.
const OUT_OF_ORDER_MASK: u8 = 0x80;

#[derive(Debug, thiserror::Error)]
pub enum ChunkFileError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("head chunk file {file:06}, offset {offset}: {what}")]
    Corrupt {
        file: u32,
        offset: u64,
        what: String,
    },
    #[error("head chunk ref {0:#x}: no such head chunk file")]
    NoFile(u64),
    #[error("a chunk of {0} bytes does not fit a head chunk file")]
    TooLarge(usize),
    #[error("head chunk file sequence numbers exhausted")]
    TooManyFiles,
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ChunkFileError {
    let path = path.to_owned();
    move |source| ChunkFileError::Io { op, path, source }
}

/// A full head chunk in a file: upstream's chunk ref plus the data length, which spares a
/// read of the chunk's header before its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DiskChunk {
    pub(crate) r: u64,
    pub(crate) len: u32,
}

impl DiskChunk {
    pub(crate) fn file(self) -> u32 {
        (self.r >> 32) as u32
    }

    pub(crate) fn offset(self) -> u64 {
        self.r & 0xFFFF_FFFF
    }

    /// Bytes of the whole chunk record in the file.
    fn record_len(self) -> usize {
        META_LEN + uvarint_len(u64::from(self.len)) + self.len as usize + CRC_LEN
    }
}

fn uvarint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn file_name(seq: u32) -> String {
    format!("{seq:06}")
}

struct FileEntry {
    file: Arc<File>,
    /// Newest sample time in the file: once the head is truncated past it, nothing in the
    /// file is referenced any more.
    max_t: i64,
}

/// The file chunks are appended to, with the chunks written since the last flush.
struct Current {
    seq: u32,
    file: Arc<File>,
    path: PathBuf,
    /// Bytes of the file on disk.
    flushed: u64,
    buf: Vec<u8>,
}

impl Current {
    fn size(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn flush(&mut self) -> Result<(), ChunkFileError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        (&*self.file)
            .write_all(&self.buf)
            .map_err(io_err("write", &self.path))?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

struct State {
    files: BTreeMap<u32, FileEntry>,
    current: Option<Current>,
    next_seq: u32,
    record: EncBuf,
}

/// The `chunks_head` directory of one head.
pub(crate) struct ChunkFiles {
    dir: PathBuf,
    state: Mutex<State>,
}

impl ChunkFiles {
    /// Opens `dir` (created if missing), returning the chunks its files hold that head
    /// replay should attach to series. Damaged files are deleted as upstream repairs them;
    /// `Loaded::repaired` says what went.
    pub(crate) fn open(dir: &Path) -> Result<(ChunkFiles, Loaded), ChunkFileError> {
        std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        let (files, loaded) = load::load(dir)?;
        let next_seq = files.keys().next_back().map_or(Ok(1), |&s| {
            s.checked_add(1).ok_or(ChunkFileError::TooManyFiles)
        })?;
        let state = State {
            files,
            current: None,
            next_seq,
            record: EncBuf::new(),
        };
        Ok((
            ChunkFiles {
                dir: dir.to_owned(),
                state: Mutex::new(state),
            },
            loaded,
        ))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation leaves the state consistent before the next begins.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a full chunk of series `series_ref` covering `[mint, maxt]`.
    pub(crate) fn write(
        &self,
        series_ref: u64,
        mint: i64,
        maxt: i64,
        encoding: ChunkEncoding,
        data: &[u8],
    ) -> Result<DiskChunk, ChunkFileError> {
        let len = u32::try_from(data.len())
            .ok()
            .filter(|&l| u64::from(l) + (HEADER_LEN + MAX_META_LEN) as u64 <= MAX_FILE_SIZE)
            .ok_or(ChunkFileError::TooLarge(data.len()))?;
        let mut st = self.lock();
        let st = &mut *st;
        let rec = &mut st.record;
        rec.clear();
        rec.put_be64(series_ref);
        rec.put_be64(mint as u64);
        rec.put_be64(maxt as u64);
        rec.put_byte(encoding as u8);
        rec.put_uvarint(u64::from(len));
        rec.bytes.extend_from_slice(data);
        rec.put_crc32_of(0);
        let needed = rec.len() as u64;
        let cut = st
            .current
            .as_ref()
            .is_none_or(|c| c.size() > HEADER_LEN as u64 && c.size() + needed > MAX_FILE_SIZE);
        if cut {
            self.cut(st)?;
        }
        let cur = st.current.as_mut().expect("a file was cut above");
        let offset = cur.size();
        cur.buf.extend_from_slice(&st.record.bytes);
        if cur.buf.len() >= WRITE_BUFFER {
            cur.flush()?;
        }
        let entry = st
            .files
            .get_mut(&cur.seq)
            .expect("the current file is listed");
        entry.max_t = entry.max_t.max(maxt);
        Ok(DiskChunk {
            r: u64::from(cur.seq) << 32 | offset,
            len,
        })
    }

    /// Finishes the current file (flushed and fsynced) and starts the next one.
    fn cut(&self, st: &mut State) -> Result<(), ChunkFileError> {
        if let Some(mut cur) = st.current.take() {
            cur.flush()?;
            cur.file.sync_all().map_err(io_err("fsync", &cur.path))?;
        }
        let seq = st.next_seq;
        st.next_seq = seq.checked_add(1).ok_or(ChunkFileError::TooManyFiles)?;
        let path = self.dir.join(file_name(seq));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err("create", &path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsync", &self.dir))?;
        let mut header = vec![0u8; HEADER_LEN];
        header[..4].copy_from_slice(&MAGIC.to_be_bytes());
        header[4] = FORMAT_V1;
        let file = Arc::new(file);
        st.files.insert(
            seq,
            FileEntry {
                file: file.clone(),
                max_t: i64::MIN,
            },
        );
        st.current = Some(Current {
            seq,
            file,
            path,
            flushed: 0,
            buf: header,
        });
        Ok(())
    }

    /// The data of a chunk written before, its checksum verified. Queries read every chunk
    /// in their range through here, so a typical record (a few hundred bytes) is staged on
    /// the stack and the data copied once, into the shared buffer handed out.
    pub(crate) fn read(&self, c: DiskChunk) -> Result<Arc<[u8]>, ChunkFileError> {
        let mut small = [0u8; 1024];
        let mut large = Vec::new();
        let record: &mut [u8] = match small.get_mut(..c.record_len()) {
            Some(r) => r,
            None => {
                large.resize(c.record_len(), 0);
                &mut large
            }
        };
        let file = {
            let st = self.lock();
            match &st.current {
                Some(cur) if cur.seq == c.file() && c.offset() >= cur.flushed => {
                    let at = (c.offset() - cur.flushed) as usize;
                    let src = cur.buf.get(at..at + record.len()).ok_or_else(|| {
                        corrupt(c, "the chunk runs past the written data".to_owned())
                    })?;
                    record.copy_from_slice(src);
                    None
                }
                _ => Some(
                    st.files
                        .get(&c.file())
                        .ok_or(ChunkFileError::NoFile(c.r))?
                        .file
                        .clone(),
                ),
            }
        };
        if let Some(file) = file {
            file.read_exact_at(record, c.offset())
                .map_err(|e| corrupt(c, format!("reading the chunk: {e}")))?;
        }
        let body = record.len() - CRC_LEN;
        let stored = u32::from_be_bytes(record[body..].try_into().expect("4 bytes"));
        let computed = crc32c::crc32c(&record[..body]);
        if stored != computed {
            return Err(corrupt(
                c,
                format!("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"),
            ));
        }
        Ok(Arc::from(&record[body - c.len as usize..body]))
    }

    /// Deletes the files holding only chunks older than `mint` (the head has dropped those),
    /// starting a new file first so the current one can go too.
    pub(crate) fn truncate(&self, mint: i64) -> Result<(), ChunkFileError> {
        let mut st = self.lock();
        if st
            .current
            .as_ref()
            .is_some_and(|c| c.size() > HEADER_LEN as u64)
            && let Some(mut cur) = st.current.take()
        {
            cur.flush()?;
            cur.file.sync_all().map_err(io_err("fsync", &cur.path))?;
        }
        let current = st.current.as_ref().map(|c| c.seq);
        let old: Vec<u32> = st
            .files
            .iter()
            .filter(|&(&seq, f)| Some(seq) != current && f.max_t < mint)
            .map(|(&seq, _)| seq)
            .collect();
        for seq in old {
            let path = self.dir.join(file_name(seq));
            std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
            st.files.remove(&seq);
        }
        Ok(())
    }

    /// Writes out and fsyncs the chunks buffered so far.
    pub(crate) fn sync(&self) -> Result<(), ChunkFileError> {
        let mut st = self.lock();
        if let Some(cur) = st.current.as_mut() {
            cur.flush()?;
            cur.file.sync_all().map_err(io_err("fsync", &cur.path))?;
        }
        Ok(())
    }

    /// Bytes of all head chunk files (upstream's `prometheus_tsdb_head_chunks_storage_size_bytes`).
    pub(crate) fn size_bytes(&self) -> u64 {
        let st = self.lock();
        let on_disk: u64 = st
            .files
            .values()
            .filter_map(|f| f.file.metadata().ok())
            .map(|m| m.len())
            .sum();
        on_disk + st.current.as_ref().map_or(0, |c| c.buf.len() as u64)
    }
}

fn corrupt(c: DiskChunk, what: String) -> ChunkFileError {
    ChunkFileError::Corrupt {
        file: c.file(),
        offset: c.offset(),
        what,
    }
}
