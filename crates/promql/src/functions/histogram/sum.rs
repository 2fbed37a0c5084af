//! Sums and means of many native histograms (`sum`, `avg`, `sum_over_time`,
//! `avg_over_time`), compensated as upstream so results agree to the last bit.

use pm_common::model::{Combined, FloatHistogram, HistogramError};

/// A running Kahan-compensated sum of histograms. As a mean it sums directly while the sum
/// stays finite, then switches to an incremental mean (the direct mean is the more accurate
/// one, but it cannot survive an overflow).
#[derive(Clone, Debug)]
pub struct HistogramSum {
    sum: FloatHistogram,
    compensation: Option<FloatHistogram>,
    count: f64,
    /// The incremental mean, once the direct sum overflowed.
    mean: Option<FloatHistogram>,
    reconciled: bool,
}

impl HistogramSum {
    pub fn new(first: &FloatHistogram) -> HistogramSum {
        HistogramSum {
            sum: first.clone(),
            compensation: None,
            count: 1.0,
            mean: None,
            reconciled: false,
        }
    }

    /// Whether any addition had to reconcile mismatched custom bucket bounds.
    pub fn reconciled(&self) -> bool {
        self.reconciled
    }

    fn note(&mut self, combined: Combined) {
        self.reconciled |= combined.custom_bounds_reconciled;
    }

    /// Adds `h` to the sum.
    pub fn add(&mut self, h: &FloatHistogram) -> Result<(), HistogramError> {
        self.count += 1.0;
        let combined = self.sum.kahan_add(h, &mut self.compensation)?;
        self.note(combined);
        Ok(())
    }

    /// Adds `h` to the mean.
    pub fn add_to_mean(&mut self, h: &FloatHistogram) -> Result<(), HistogramError> {
        self.count += 1.0;
        let count = self.count;
        if self.mean.is_none() {
            let mut sum = self.sum.clone();
            let mut c = self.compensation.clone();
            let combined = sum.kahan_add(h, &mut c)?;
            self.note(combined);
            if !sum.has_overflow() {
                (self.sum, self.compensation) = (sum, c);
                return Ok(());
            }
            let mut mean = self.sum.clone();
            mean.div(count - 1.0);
            self.mean = Some(mean);
            if let Some(c) = &mut self.compensation {
                c.div(count - 1.0);
            }
        }
        let q = (count - 1.0) / count;
        if let Some(c) = &mut self.compensation {
            c.mul(q);
        }
        let mut part = h.clone();
        part.div(count);
        let mean = self
            .mean
            .as_mut()
            .expect("switched to the incremental mean");
        mean.mul(q);
        let combined = mean.kahan_add(&part, &mut self.compensation)?;
        self.note(combined);
        Ok(())
    }

    /// The compensated sum.
    pub fn sum(self) -> Result<FloatHistogram, HistogramError> {
        let mut sum = self.sum;
        if let Some(c) = &self.compensation {
            sum.add(c)?;
        }
        Ok(sum)
    }

    /// The compensated mean of everything added with [`Self::add_to_mean`].
    pub fn mean(self) -> Result<FloatHistogram, HistogramError> {
        if let Some(mut mean) = self.mean {
            if let Some(c) = &self.compensation {
                mean.add(c)?;
            }
            return Ok(mean);
        }
        let mut mean = self.sum;
        mean.div(self.count);
        if let Some(mut c) = self.compensation {
            c.div(self.count);
            mean.add(&c)?;
        }
        Ok(mean)
    }
}
