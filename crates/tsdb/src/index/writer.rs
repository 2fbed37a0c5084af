//! Streams an index file: symbols first, then series in label order, then everything derived
//! from them (label indices, postings and their offset tables, TOC) on [`IndexWriter::finish`].
//!
//! Postings are gathered in memory as series are added; chunk data never passes through here.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use pm_common::model::Labels;

use super::{ALL_POSTINGS_KEY, ChunkIndexMeta, FORMAT_V2, IndexError, MAGIC, SERIES_ALIGN};
use crate::encoding::EncBuf;

pub struct IndexWriter {
    path: PathBuf,
    out: BufWriter<File>,
    pos: u64,
    symbols: Vec<Box<str>>,
    symbol_refs: HashMap<Box<str>, u32>,
    toc: [u64; 6],
    last_series: Option<Labels>,
    /// Every series reference, in order: the all-postings list.
    all: Vec<u32>,
    /// Series references per (name, value) symbol pair; symbol order is string order, so the
    /// map iterates in the order the postings offset table needs.
    postings: BTreeMap<(u32, u32), Vec<u32>>,
    scratch: EncBuf,
}

impl IndexWriter {
    /// Creates the file and writes the header and symbol table. `symbols` must be sorted and
    /// unique and hold every label name and value of the series to come.
    pub fn create<'a>(
        path: impl AsRef<Path>,
        symbols: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, IndexError> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path).map_err(IndexError::io("create", &path))?;
        let mut w = Self {
            out: BufWriter::with_capacity(1 << 20, file),
            path,
            pos: 0,
            symbols: Vec::new(),
            symbol_refs: HashMap::new(),
            toc: [0; 6],
            last_series: None,
            all: Vec::new(),
            postings: BTreeMap::new(),
            scratch: EncBuf::new(),
        };
        let mut header = EncBuf::new();
        header.put_be32(MAGIC);
        header.put_byte(FORMAT_V2);
        w.write(&header.bytes)?;

        let mut buf = EncBuf::new();
        buf.put_be32(0);
        buf.put_be32(0);
        for s in symbols {
            if w.symbols.last().is_some_and(|last| &**last >= s) {
                return Err(IndexError::SymbolOrder(s.to_owned()));
            }
            let r = u32::try_from(w.symbols.len()).map_err(|_| IndexError::TooLarge)?;
            w.symbols.push(s.into());
            w.symbol_refs.insert(s.into(), r);
            buf.put_uvarint_str(s);
        }
        let count = u32::try_from(w.symbols.len()).map_err(|_| IndexError::TooLarge)?;
        buf.patch_be32(4, count);
        w.toc[0] = w.pos;
        w.write_be32_section(buf)?;
        w.toc[1] = w.pos;
        Ok(w)
    }

    /// Adds the next series; series must come in strictly ascending label order, chunks sorted by
    /// start time (deltas wrap, so overlapping chunks still round-trip, as upstream's do).
    /// Returns the series reference.
    pub fn add_series(
        &mut self,
        labels: &Labels,
        chunks: &[ChunkIndexMeta],
    ) -> Result<u64, IndexError> {
        if self.last_series.as_ref().is_some_and(|last| last >= labels) {
            return Err(IndexError::SeriesOrder(labels.to_string()));
        }
        self.pad(SERIES_ALIGN)?;
        let series_ref =
            u32::try_from(self.pos / SERIES_ALIGN).map_err(|_| IndexError::TooLarge)?;

        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        body.put_uvarint(labels.len() as u64);
        for l in labels.iter() {
            let name = self.symbol_ref(l.name)?;
            let value = self.symbol_ref(l.value)?;
            body.put_uvarint(u64::from(name));
            body.put_uvarint(u64::from(value));
            self.postings
                .entry((name, value))
                .or_default()
                .push(series_ref);
        }
        body.put_uvarint(chunks.len() as u64);
        let mut prev: Option<&ChunkIndexMeta> = None;
        for c in chunks {
            match prev {
                None => {
                    body.put_varint(c.min_time);
                    body.put_uvarint(c.max_time.wrapping_sub(c.min_time) as u64);
                    body.put_uvarint(c.chunk_ref);
                }
                Some(p) => {
                    body.put_uvarint(c.min_time.wrapping_sub(p.max_time) as u64);
                    body.put_uvarint(c.max_time.wrapping_sub(c.min_time) as u64);
                    body.put_varint(c.chunk_ref.wrapping_sub(p.chunk_ref) as i64);
                }
            }
            prev = Some(c);
        }
        let mut entry = EncBuf::new();
        entry.put_uvarint(body.len() as u64);
        let crc = crc32c::crc32c(&body.bytes);
        self.write(&entry.bytes)?;
        self.write(&body.bytes)?;
        self.write(&crc.to_be_bytes())?;
        self.scratch = body;

        self.all.push(series_ref);
        self.last_series = Some(labels.clone());
        Ok(u64::from(series_ref))
    }

    /// Writes the remaining sections and the TOC, and fsyncs the file.
    pub fn finish(mut self) -> Result<(), IndexError> {
        let postings = std::mem::take(&mut self.postings);

        // Label indices: the values of each name, as symbol references.
        self.toc[2] = self.pos;
        let mut label_offsets = Vec::new();
        let mut keys = postings.keys().peekable();
        while let Some(&(name, first)) = keys.next() {
            let mut values = vec![first];
            while let Some(&&(n, v)) = keys.peek() {
                if n != name {
                    break;
                }
                values.push(v);
                keys.next();
            }
            self.pad(4)?;
            label_offsets.push((name, self.pos));
            let mut buf = EncBuf::new();
            buf.put_be32(0);
            buf.put_be32(1);
            buf.put_be32(values.len() as u32);
            for v in values {
                buf.put_be32(v);
            }
            self.write_be32_section(buf)?;
        }

        self.toc[3] = self.pos;
        let mut buf = EncBuf::new();
        buf.put_be32(0);
        buf.put_be32(label_offsets.len() as u32);
        for &(name, offset) in &label_offsets {
            buf.put_uvarint(1);
            buf.put_uvarint_str(&self.symbols[name as usize]);
            buf.put_uvarint(offset);
        }
        self.write_be32_section(buf)?;

        self.toc[4] = self.pos;
        let all = std::mem::take(&mut self.all);
        let mut offsets = Vec::with_capacity(postings.len() + 1);
        offsets.push((
            ALL_POSTINGS_KEY.0,
            ALL_POSTINGS_KEY.1,
            self.write_postings(&all)?,
        ));
        let mut table_offsets = Vec::with_capacity(postings.len());
        for ((name, value), list) in &postings {
            table_offsets.push((*name, *value, self.write_postings(list)?));
        }

        self.toc[5] = self.pos;
        let mut buf = EncBuf::new();
        buf.put_be32(0);
        buf.put_be32((table_offsets.len() + offsets.len()) as u32);
        for (name, value, offset) in offsets {
            buf.put_uvarint(2);
            buf.put_uvarint_str(name);
            buf.put_uvarint_str(value);
            buf.put_uvarint(offset);
        }
        for (name, value, offset) in table_offsets {
            buf.put_uvarint(2);
            buf.put_uvarint_str(&self.symbols[name as usize]);
            buf.put_uvarint_str(&self.symbols[value as usize]);
            buf.put_uvarint(offset);
        }
        self.write_be32_section(buf)?;

        let mut toc = EncBuf::new();
        for r in self.toc {
            toc.put_be64(r);
        }
        toc.put_crc32_of(0);
        self.write(&toc.bytes)?;

        let file = self
            .out
            .into_inner()
            .map_err(|e| IndexError::io("write", &self.path)(e.into_error()))?;
        file.sync_all().map_err(IndexError::io("fsync", &self.path))
    }

    fn symbol_ref(&self, s: &str) -> Result<u32, IndexError> {
        self.symbol_refs
            .get(s)
            .copied()
            .ok_or_else(|| IndexError::MissingSymbol(s.to_owned()))
    }

    fn write_postings(&mut self, list: &[u32]) -> Result<u64, IndexError> {
        self.pad(4)?;
        let offset = self.pos;
        let mut buf = EncBuf::new();
        buf.put_be32(0);
        buf.put_be32(list.len() as u32);
        for &r in list {
            buf.put_be32(r);
        }
        self.write_be32_section(buf)?;
        Ok(offset)
    }

    /// Completes `buf`, which starts with a 4-byte length placeholder, with its length and
    /// checksum, and writes it.
    fn write_be32_section(&mut self, mut buf: EncBuf) -> Result<(), IndexError> {
        let len = u32::try_from(buf.len() - 4).map_err(|_| IndexError::TooLarge)?;
        buf.patch_be32(0, len);
        buf.put_crc32_of(4);
        self.write(&buf.bytes)
    }

    fn pad(&mut self, align: u64) -> Result<(), IndexError> {
        let n = (align - self.pos % align) % align;
        self.write(&[0u8; 16][..n as usize])
    }

    fn write(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.out
            .write_all(b)
            .map_err(IndexError::io("write", &self.path))?;
        self.pos += b.len() as u64;
        Ok(())
    }
}
