//! `kernel_hung`: the count of hung tasks the kernel's watchdog detected
//! (/proc/sys/kernel/hung_task_detect_count).

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter};
use crate::paths::{Paths, read_u64};

struct KernelHung(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(KernelHung(s.paths.clone())))
}

impl Collector for KernelHung {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        // Kernels without the hung-task detector lack the file: "no data", as upstream.
        let count = read_u64(&self.0.proc("sys/kernel/hung_task_detect_count"))?;
        counter(
            out,
            "node_kernel_hung_tasks_total",
            "Total number of tasks that have been detected as hung since the system booted.",
            count as f64,
        );
        Ok(())
    }
}
