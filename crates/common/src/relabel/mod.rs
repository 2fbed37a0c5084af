//! Relabeling: the rules of `relabel_configs`, `metric_relabel_configs`,
//! `alert_relabel_configs` and `write_relabel_configs`, with upstream's exact semantics
//! (prometheus/prometheus `model/relabel`).
//!
//! Rules apply in order to a [`LabelsBuilder`]; a `keep`/`drop` style rule can drop the
//! series, which ends processing. On the scrape path [`process_builder`] edits a reused
//! builder so that a rule set that changes nothing allocates nothing.

mod config;
pub(crate) mod template;

use md5::{Digest, Md5};

pub use config::{
    Action, DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, Regexp, RelabelConfig,
    RelabelError,
};

use crate::model::{Labels, LabelsBuilder};

/// Applies `cfgs` in order to `labels`; `None` when a rule drops the series.
pub fn process<'a>(
    labels: &Labels,
    cfgs: impl IntoIterator<Item = &'a RelabelConfig>,
) -> Option<Labels> {
    let mut lb = LabelsBuilder::new(labels.clone());
    process_builder(&mut lb, cfgs).then(|| lb.labels())
}

/// Applies `cfgs` in order to the labels in `lb`; false when a rule drops the series (`lb`
/// is then left half-processed and should be discarded).
pub fn process_builder<'a>(
    lb: &mut LabelsBuilder,
    cfgs: impl IntoIterator<Item = &'a RelabelConfig>,
) -> bool {
    let mut scratch = String::new();
    cfgs.into_iter().all(|cfg| cfg.apply_with(lb, &mut scratch))
}

impl RelabelConfig {
    /// Applies this one rule; false when it drops the series.
    pub fn apply(&self, lb: &mut LabelsBuilder) -> bool {
        self.apply_with(lb, &mut String::new())
    }

    /// `scratch` holds the source value; it is reused across rules.
    fn apply_with(&self, lb: &mut LabelsBuilder, scratch: &mut String) -> bool {
        scratch.clear();
        for (i, name) in self.source_labels.iter().flatten().enumerate() {
            if i > 0 {
                scratch.push_str(&self.separator);
            }
            scratch.push_str(lb.get(name).unwrap_or(""));
        }
        let val = scratch.as_str();
        let target = self.target_label.as_str();
        match self.action {
            Action::Drop => return !self.regex.is_match(val),
            Action::Keep => return self.regex.is_match(val),
            Action::DropEqual => return lb.get(target).unwrap_or("") != val,
            Action::KeepEqual => return lb.get(target).unwrap_or("") == val,
            Action::Replace => self.replace(lb, val),
            Action::Lowercase => {
                lb.set(target, &template::go_lowercase(val));
            }
            Action::Uppercase => {
                lb.set(target, &template::go_uppercase(val));
            }
            Action::HashMod => {
                let shard = hashmod(val, self.modulus);
                lb.set(target, itoa::Buffer::new().format(shard));
            }
            Action::LabelMap => {
                let re = self.regex.matcher().regex().anchored();
                let mut locs = re.capture_locations();
                let mut renamed = Vec::new();
                lb.range(|l| {
                    if self.regex.is_match(l.name) && re.captures_read(&mut locs, l.name).is_some()
                    {
                        let mut name = String::new();
                        template::expand(&self.replacement, re, l.name, &locs, &mut name);
                        renamed.push((name, l.value.to_owned()));
                    }
                });
                for (name, value) in renamed {
                    lb.set(&name, &value);
                }
            }
            Action::LabelDrop | Action::LabelKeep => {
                let drop_matching = self.action == Action::LabelDrop;
                let mut doomed = Vec::new();
                lb.range(|l| {
                    if self.regex.is_match(l.name) == drop_matching {
                        doomed.push(l.name.to_owned());
                    }
                });
                for name in doomed {
                    lb.del(&name);
                }
            }
        }
        true
    }

    fn replace(&self, lb: &mut LabelsBuilder, val: &str) {
        // With the default regex and no references, an empty source value can only
        // produce the literal replacement: skip the regex.
        if val.is_empty()
            && self.regex.is_default()
            && !self.target_label.contains('$')
            && !self.replacement.contains('$')
        {
            lb.set(&self.target_label, &self.replacement);
            return;
        }
        let re = self.regex.matcher().regex().anchored();
        let mut locs = re.capture_locations();
        if re.captures_read(&mut locs, val).is_none() {
            return;
        }
        let mut target = String::new();
        template::expand(&self.target_label, re, val, &locs, &mut target);
        if !self.scheme().is_valid_label_name(&target) {
            return;
        }
        let mut value = String::new();
        template::expand(&self.replacement, re, val, &locs, &mut value);
        if value.is_empty() {
            lb.del(&target);
        } else {
            lb.set(&target, &value);
        }
    }
}

/// The shard of `val` among `modulus`: the last 8 bytes of its MD5 digest read as a
/// big-endian integer, modulo `modulus`. Byte for byte upstream's `hashmod`, so that
/// Prometheus and Promethium servers sharing a target list split it the same way.
pub fn hashmod(val: &str, modulus: u64) -> u64 {
    let digest = Md5::digest(val.as_bytes());
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[8..]);
    u64::from_be_bytes(tail) % modulus
}

#[cfg(test)]
mod tests;
