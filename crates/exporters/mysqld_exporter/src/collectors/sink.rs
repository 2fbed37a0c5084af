//! Where collectors put their samples, and how they read cells of text-protocol rows.

use std::collections::HashMap;

use mysql_async::{Row, Value};
use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{ConstFamily, ConstKind};

use super::parse::go_float;
use crate::error::ScrapeError;

/// The families of one scrape, keyed by name so that a collector can push sample by sample.
#[derive(Debug, Default)]
pub struct Sink {
    families: HashMap<String, ConstFamily>,
    /// Families built whole (histograms).
    built: Vec<MetricFamily>,
}

impl Sink {
    /// Adds a sample to the family `name`, created with `help` and `kind` on first use.
    pub fn push(
        &mut self,
        name: &str,
        help: &str,
        kind: ConstKind,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        match self.families.get_mut(name) {
            Some(family) => family.push(labels, value),
            None => {
                let family = ConstFamily::new(name, help, kind).with(labels, value);
                self.families.insert(name.to_owned(), family);
            }
        }
    }

    /// Adds a family built elsewhere.
    pub fn family(&mut self, family: MetricFamily) {
        self.built.push(family);
    }

    pub fn into_families(self) -> Vec<MetricFamily> {
        let mut out: Vec<MetricFamily> = self
            .families
            .into_values()
            .map(ConstFamily::into_family)
            .collect();
        out.extend(self.built);
        out
    }
}

/// Cell `i` of a text-protocol row as bytes; NULL and missing cells are empty, as Go's
/// `sql.RawBytes` leaves them.
pub fn cell(row: &Row, i: usize) -> &[u8] {
    match row.as_ref(i) {
        Some(Value::Bytes(b)) => b,
        _ => &[],
    }
}

/// Cell `i` as a float, as `database/sql` converts a text cell scanned into a `float64`.
pub fn cell_f64(row: &Row, i: usize) -> Option<f64> {
    match row.as_ref(i)? {
        Value::Bytes(b) => go_float(std::str::from_utf8(b).ok()?.trim()),
        Value::Int(v) => Some(*v as f64),
        Value::UInt(v) => Some(*v as f64),
        Value::Float(v) => Some(f64::from(*v)),
        Value::Double(v) => Some(*v),
        _ => None,
    }
}

/// `N` numeric cells from `first` on; a cell that is not a number fails the scrape, as
/// upstream's `Scan` into a float does.
pub fn numbers<const N: usize>(row: &Row, first: usize) -> Result<[f64; N], ScrapeError> {
    let mut out = [0.0; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let column = first + i;
        *slot = cell_f64(row, column).ok_or_else(|| ScrapeError::Value {
            column: row
                .columns_ref()
                .get(column)
                .map(|c| c.name_str().into_owned())
                .unwrap_or_default(),
            value: String::from_utf8_lossy(cell(row, column)).into_owned(),
        })?;
    }
    Ok(out)
}
