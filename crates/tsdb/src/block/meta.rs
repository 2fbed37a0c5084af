//! `meta.json`, laid out as upstream writes it (tab-indented, camelCase, same optional fields).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::BlockError;

pub const META_FILE: &str = "meta.json";
pub const META_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    pub ulid: Ulid,
    /// Timestamp of the first sample (inclusive), milliseconds.
    #[serde(rename = "minTime")]
    pub min_time: i64,
    /// End of the block's range (exclusive), milliseconds.
    #[serde(rename = "maxTime")]
    pub max_time: i64,
    #[serde(default)]
    pub stats: BlockStats,
    pub compaction: BlockMetaCompaction,
    pub version: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStats {
    #[serde(rename = "numSamples", default, skip_serializing_if = "is_zero")]
    pub num_samples: u64,
    #[serde(rename = "numSeries", default, skip_serializing_if = "is_zero")]
    pub num_series: u64,
    #[serde(rename = "numChunks", default, skip_serializing_if = "is_zero")]
    pub num_chunks: u64,
    #[serde(rename = "numTombstones", default, skip_serializing_if = "is_zero")]
    pub num_tombstones: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMetaCompaction {
    /// 1 for a block cut from the head; one more than the highest parent's for a compaction.
    pub level: u32,
    /// ULIDs of all level-1 blocks this block's data came from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Ulid>,
    /// Set when compaction produced an empty block that may be deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deletable: bool,
    /// The blocks compacted into this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
    /// Set when a compaction involving this block failed; the planner then skips it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDesc {
    pub ulid: Ulid,
    #[serde(rename = "minTime")]
    pub min_time: i64,
    #[serde(rename = "maxTime")]
    pub max_time: i64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl BlockMeta {
    pub fn read(dir: &Path) -> Result<Self, BlockError> {
        let path = dir.join(META_FILE);
        let bytes = std::fs::read(&path).map_err(BlockError::io("read", &path))?;
        let meta: BlockMeta =
            serde_json::from_slice(&bytes).map_err(|source| BlockError::Meta {
                path: path.clone(),
                source,
            })?;
        if meta.version != META_VERSION {
            return Err(BlockError::MetaVersion {
                path,
                version: meta.version,
            });
        }
        Ok(meta)
    }

    /// Writes `dir/meta.json` through a fsynced temporary file renamed into place; returns the
    /// size written.
    pub fn write(&self, dir: &Path) -> Result<u64, BlockError> {
        let path = dir.join(META_FILE);
        let tmp = dir.join(format!("{META_FILE}.tmp"));
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser)
            .map_err(|source| BlockError::Meta {
                path: path.clone(),
                source,
            })?;
        let mut f = File::create(&tmp).map_err(BlockError::io("create", &tmp))?;
        f.write_all(&out).map_err(BlockError::io("write", &tmp))?;
        f.sync_all().map_err(BlockError::io("fsync", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(BlockError::io("rename", &tmp))?;
        Ok(out.len() as u64)
    }
}
