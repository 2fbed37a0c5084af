//! Reading the head chunk files back on open, and repairing them as upstream does: a file
//! that ends in a torn or damaged chunk is deleted with every file after it (the WAL still
//! holds their samples), and an empty last file left by a crash during a cut is removed.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::{
    CRC_LEN, ChunkFileError, DiskChunk, FORMAT_V1, FileEntry, HEADER_LEN, MAGIC, MAX_LEN_FIELD,
    MAX_META_LEN, META_LEN, OUT_OF_ORDER_MASK, file_name, io_err,
};
use crate::chunkenc::ChunkEncoding;
use crate::encoding::DecBuf;

/// A chunk found in a head chunk file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MappedChunk {
    pub(crate) chunk: DiskChunk,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) encoding: ChunkEncoding,
}

/// What the head chunk files held on open.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Chunks by series reference, oldest first.
    pub(crate) series: HashMap<u64, Vec<MappedChunk>>,
    /// Out-of-order chunks (upstream writes them with the WBL), which this head rebuilds from
    /// the WAL instead; skipped.
    pub(crate) skipped: u64,
    /// What the repair of damaged files removed.
    pub(crate) repaired: Option<String>,
}

/// The files of `dir` by sequence number: every all-digit name.
fn list(dir: &Path) -> Result<BTreeMap<u32, std::path::PathBuf>, ChunkFileError> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(seq) = name.parse() {
            files.insert(seq, entry.path());
        }
    }
    Ok(files)
}

fn remove(dir: &Path, seq: u32) -> Result<(), ChunkFileError> {
    let path = dir.join(file_name(seq));
    std::fs::remove_file(&path).map_err(io_err("remove", &path))
}

pub(super) fn load(dir: &Path) -> Result<(BTreeMap<u32, FileEntry>, Loaded), ChunkFileError> {
    let mut paths = list(dir)?;
    // Upstream's `repairLastChunkFile`: a last file without even a magic number is what a
    // crash between creating a file and writing its header leaves.
    if let Some((&seq, path)) = paths.iter().next_back() {
        let head = std::fs::read(path).map_err(io_err("read", path))?;
        if head.len() < 4 || head[..4] == [0; 4] {
            tracing::warn!(file = %path.display(), "deleting empty head chunk file");
            remove(dir, seq)?;
            paths.remove(&seq);
        }
    }
    let mut loaded = Loaded::default();
    let mut files = BTreeMap::new();
    let mut damaged = None;
    for (&seq, path) in &paths {
        let bytes = std::fs::read(path).map_err(io_err("read", path))?;
        match parse(seq, &bytes, &mut loaded) {
            Ok(max_t) => {
                let file = File::open(path).map_err(io_err("open", path))?;
                files.insert(
                    seq,
                    FileEntry {
                        file: Arc::new(file),
                        max_t,
                    },
                );
            }
            Err(e) => {
                damaged = Some((seq, e));
                break;
            }
        }
    }
    if damaged.is_none() {
        damaged = out_of_sequence(&loaded).map(|e| (paths.keys().next().copied().unwrap_or(0), e));
    }
    if let Some((from, e)) = damaged {
        // The chunks of the removed files must not stay attached.
        loaded
            .series
            .values_mut()
            .for_each(|cs| cs.retain(|c| c.chunk.file() < from));
        loaded.series.retain(|_, cs| !cs.is_empty());
        let removed: Vec<u32> = paths.range(from..).map(|(&s, _)| s).collect();
        for &seq in &removed {
            remove(dir, seq)?;
            files.remove(&seq);
        }
        let what = format!(
            "{e}; deleted head chunk files {} (the WAL holds their samples)",
            removed
                .iter()
                .map(|&s| file_name(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
        tracing::warn!(repair = %what, "head chunk files corrupted");
        loaded.repaired = Some(what);
    }
    Ok((files, loaded))
}

/// Upstream refuses a series whose chunks overlap or go back in time, and then discards every
/// file; so does this.
fn out_of_sequence(loaded: &Loaded) -> Option<ChunkFileError> {
    loaded.series.iter().find_map(|(r, cs)| {
        cs.windows(2)
            .find(|w| w[0].max_t >= w[1].min_t)
            .map(|w| ChunkFileError::Corrupt {
                file: w[1].chunk.file(),
                offset: w[1].chunk.offset(),
                what: format!(
                    "out of sequence m-mapped chunk for series ref {r}, last chunk: [{}, {}], new: [{}, {}]",
                    w[0].min_t, w[0].max_t, w[1].min_t, w[1].max_t
                ),
            })
    })
}

/// Adds the chunks of file `seq` to `loaded`; returns the file's newest sample time.
fn parse(seq: u32, bytes: &[u8], loaded: &mut Loaded) -> Result<i64, ChunkFileError> {
    let err = |offset: usize, what: String| ChunkFileError::Corrupt {
        file: seq,
        offset: offset as u64,
        what,
    };
    if bytes.len() < HEADER_LEN {
        return Err(err(0, "shorter than the file header".into()));
    }
    let magic = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
    if magic != MAGIC {
        return Err(err(0, format!("invalid magic number {magic:#010x}")));
    }
    if bytes[4] != FORMAT_V1 {
        return Err(err(0, format!("invalid chunk format version {}", bytes[4])));
    }
    let mut file_max = i64::MIN;
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        // Upstream pre-allocates files: zeros mark the end of what was written.
        if rest.len() < MAX_META_LEN {
            if rest.iter().all(|&b| b == 0) {
                break;
            }
            return Err(err(at, "not enough bytes left for a chunk header".into()));
        }
        let mut d = DecBuf::new(rest);
        let header =
            (|| Ok::<_, crate::encoding::DecodeError>((d.be64()?, d.be64()?, d.be64()?)))();
        let (series_ref, mint, maxt) = header.map_err(|e| err(at, e.to_string()))?;
        if series_ref == 0 && mint == 0 && maxt == 0 {
            break;
        }
        let (mint, maxt) = (mint as i64, maxt as i64);
        let enc = rest[META_LEN - 1];
        let mut d = DecBuf::new(&rest[META_LEN..META_LEN + MAX_LEN_FIELD]);
        let len = d.uvarint32().map_err(|e| err(at, e.to_string()))?;
        let data_start = META_LEN + (MAX_LEN_FIELD - d.remaining());
        let data_end = data_start + len as usize;
        if data_end + CRC_LEN > rest.len() {
            return Err(err(at, "the chunk runs past the end of the file".into()));
        }
        let stored = u32::from_be_bytes(rest[data_end..data_end + CRC_LEN].try_into().expect("4"));
        let computed = crc32c::crc32c(&rest[..data_end]);
        if stored != computed {
            return Err(err(
                at,
                format!("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"),
            ));
        }
        let chunk = DiskChunk {
            r: u64::from(seq) << 32 | at as u64,
            len,
        };
        at += data_end + CRC_LEN;
        file_max = file_max.max(maxt);
        if enc & OUT_OF_ORDER_MASK != 0 {
            loaded.skipped += 1;
            continue;
        }
        // Upstream ignores chunks of encodings it does not know.
        let Some(encoding) = ChunkEncoding::from_u8(enc) else {
            continue;
        };
        loaded
            .series
            .entry(series_ref)
            .or_default()
            .push(MappedChunk {
                chunk,
                min_t: mint,
                max_t: maxt,
                encoding,
            });
    }
    Ok(file_max)
}
