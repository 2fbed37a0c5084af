//! Reads an index file held in memory (plain reads, as the chunk reader does, so the crate stays
//! free of `unsafe`). Symbols and the postings offset table are decoded on open; series and
//! postings lists are decoded on demand and checksum-verified.

use std::collections::BTreeMap;
use std::path::Path;

use pm_common::model::{Label, Labels};

use super::{
    ALL_POSTINGS_KEY, ChunkIndexMeta, FORMAT_V2, HEADER_LEN, IndexError, MAGIC, SERIES_ALIGN,
    TOC_LEN,
};
use crate::encoding::{DecBuf, DecodeError, check_crc, read_be32_section};

/// Postings offsets of one label name: its values, sorted, with the offset of each list.
type ValueOffsets = Vec<(Box<str>, u64)>;

#[derive(Debug)]
pub struct IndexReader {
    buf: Vec<u8>,
    symbols: Vec<Box<str>>,
    /// Label name to its values' postings offsets; the empty name holds the all-postings list.
    postings: BTreeMap<Box<str>, ValueOffsets>,
}

impl IndexReader {
    pub fn open(path: impl AsRef<Path>) -> Result<Self, IndexError> {
        let path = path.as_ref();
        let buf = std::fs::read(path).map_err(IndexError::io("read", path))?;
        Self::from_bytes(buf)
    }

    pub fn from_bytes(buf: Vec<u8>) -> Result<Self, IndexError> {
        if buf.len() < HEADER_LEN + TOC_LEN {
            return Err(IndexError::TooShort(buf.len()));
        }
        let magic = u32::from_be_bytes(buf[..4].try_into().expect("4 bytes"));
        if magic != MAGIC {
            return Err(IndexError::BadMagic(magic));
        }
        if buf[4] != FORMAT_V2 {
            return Err(IndexError::BadVersion(buf[4]));
        }
        let toc_at = buf.len() - TOC_LEN;
        let toc_bytes = &buf[toc_at..];
        check_crc(&toc_bytes[..48], &toc_bytes[48..]).map_err(IndexError::decode("TOC"))?;
        let mut d = DecBuf::new(toc_bytes);
        let mut toc = [0u64; 6];
        for r in &mut toc {
            *r = d.be64().map_err(IndexError::decode("TOC"))?;
        }

        let symbols = read_symbols(&buf, offset(toc[0])?)?;
        let postings = if toc[5] == 0 {
            BTreeMap::new()
        } else {
            read_postings_table(&buf, offset(toc[5])?)?
        };
        Ok(Self {
            buf,
            symbols,
            postings,
        })
    }

    /// Size of the index file in bytes.
    pub fn size(&self) -> u64 {
        self.buf.len() as u64
    }

    /// Every label name and value of the indexed series, sorted.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.symbols.iter().map(|s| &**s)
    }

    pub fn symbol(&self, r: u32) -> Result<&str, IndexError> {
        self.symbols
            .get(r as usize)
            .map(|s| &**s)
            .ok_or(IndexError::UnknownSymbol(r))
    }

    /// Label names, sorted.
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.postings.keys().map(|k| &**k).filter(|k| !k.is_empty())
    }

    /// Values of label `name` with their postings offsets, sorted by value.
    pub fn values(&self, name: &str) -> &[(Box<str>, u64)] {
        if name.is_empty() {
            return &[];
        }
        self.postings.get(name).map_or(&[], Vec::as_slice)
    }

    /// The series with label `name` set to `value`; empty when there are none.
    pub fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>, IndexError> {
        let values = self.values(name);
        match values.binary_search_by(|(v, _)| (**v).cmp(value)) {
            Ok(i) => self.read_postings(values[i].1),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// Every series, in label order.
    pub fn all_postings(&self) -> Result<Vec<u64>, IndexError> {
        match self
            .postings
            .get(ALL_POSTINGS_KEY.0)
            .and_then(|v| v.iter().find(|(value, _)| &**value == ALL_POSTINGS_KEY.1))
        {
            Some(&(_, offset)) => self.read_postings(offset),
            None => Ok(Vec::new()),
        }
    }

    /// The postings list at `offset` (from [`Self::values`]).
    pub fn read_postings(&self, offset: u64) -> Result<Vec<u64>, IndexError> {
        let data = read_be32_section(&self.buf, offset as usize)
            .map_err(IndexError::decode("postings"))?;
        let mut d = DecBuf::new(data);
        let n = d.be32().map_err(IndexError::decode("postings"))? as usize;
        if d.remaining() != n * 4 {
            return Err(IndexError::Decode {
                section: "postings",
                source: DecodeError::Truncated,
            });
        }
        (0..n)
            .map(|_| d.be32().map(u64::from))
            .collect::<Result<_, _>>()
            .map_err(IndexError::decode("postings"))
    }

    /// Decodes series `r`: returns its labels and fills `chunks` with its chunk metas.
    pub fn series(&self, r: u64, chunks: &mut Vec<ChunkIndexMeta>) -> Result<Labels, IndexError> {
        chunks.clear();
        let at = r
            .checked_mul(SERIES_ALIGN)
            .and_then(|at| usize::try_from(at).ok())
            .filter(|&at| at < self.buf.len())
            .ok_or(IndexError::UnknownSeries(r))?;
        let body = (|| -> Result<&[u8], DecodeError> {
            let mut d = DecBuf::new(&self.buf[at..]);
            let len = d.uvarint()? as usize;
            let body = d.bytes(len)?;
            check_crc(body, d.bytes(4)?)?;
            Ok(body)
        })()
        .map_err(IndexError::decode("series"))?;
        self.decode_series(body, chunks)
    }

    fn decode_series(
        &self,
        body: &[u8],
        chunks: &mut Vec<ChunkIndexMeta>,
    ) -> Result<Labels, IndexError> {
        let refs = decode_series_body(body, chunks).map_err(IndexError::decode("series"))?;
        let pairs = refs
            .into_iter()
            .map(|(name, value)| {
                Ok(Label {
                    name: self.symbol(name)?,
                    value: self.symbol(value)?,
                })
            })
            .collect::<Result<Vec<_>, IndexError>>()?;
        Ok(Labels::from_sorted(pairs))
    }
}

/// Decodes a series entry's body: its label symbol references, and its chunks into `chunks`.
fn decode_series_body(
    body: &[u8],
    chunks: &mut Vec<ChunkIndexMeta>,
) -> Result<Vec<(u32, u32)>, DecodeError> {
    let mut d = DecBuf::new(body);
    let n = d.uvarint()? as usize;
    let mut labels = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        labels.push((d.uvarint32()?, d.uvarint32()?));
    }
    let count = d.uvarint()? as usize;
    chunks.reserve(count.min(1024));
    let mut prev: Option<ChunkIndexMeta> = None;
    for _ in 0..count {
        let c = match prev {
            None => {
                let min_time = d.varint()?;
                let max_time = min_time.wrapping_add(d.uvarint()? as i64);
                ChunkIndexMeta {
                    min_time,
                    max_time,
                    chunk_ref: d.uvarint()?,
                }
            }
            Some(p) => {
                let min_time = p.max_time.wrapping_add(d.uvarint()? as i64);
                let max_time = min_time.wrapping_add(d.uvarint()? as i64);
                ChunkIndexMeta {
                    min_time,
                    max_time,
                    chunk_ref: p.chunk_ref.wrapping_add(d.varint()? as u64),
                }
            }
        };
        chunks.push(c);
        prev = Some(c);
    }
    Ok(labels)
}

fn offset(r: u64) -> Result<usize, IndexError> {
    usize::try_from(r).map_err(|_| IndexError::Decode {
        section: "TOC",
        source: DecodeError::Truncated,
    })
}

fn read_symbols(buf: &[u8], at: usize) -> Result<Vec<Box<str>>, IndexError> {
    let err = || IndexError::decode("symbols");
    let data = read_be32_section(buf, at).map_err(err())?;
    let mut d = DecBuf::new(data);
    let n = d.be32().map_err(err())? as usize;
    let mut symbols = Vec::with_capacity(n.min(data.len()));
    for _ in 0..n {
        symbols.push(d.uvarint_str().map_err(err())?.into());
    }
    Ok(symbols)
}

fn read_postings_table(
    buf: &[u8],
    at: usize,
) -> Result<BTreeMap<Box<str>, ValueOffsets>, IndexError> {
    let err = || IndexError::decode("postings offset table");
    let data = read_be32_section(buf, at).map_err(err())?;
    let mut d = DecBuf::new(data);
    let n = d.be32().map_err(err())?;
    let mut table: BTreeMap<Box<str>, ValueOffsets> = BTreeMap::new();
    for _ in 0..n {
        // The key count, always 2.
        d.uvarint().map_err(err())?;
        let name = d.uvarint_str().map_err(err())?;
        let value = d.uvarint_str().map_err(err())?;
        let offset = d.uvarint().map_err(err())?;
        match table.get_mut(name) {
            Some(values) => values.push((value.into(), offset)),
            None => {
                table.insert(name.into(), vec![(value.into(), offset)]);
            }
        }
    }
    Ok(table)
}
