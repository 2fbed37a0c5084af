//! `softirqs`: per-CPU softirq counts by type from /proc/softirqs.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family};
use crate::paths::{Paths, read};

struct Softirqs(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Softirqs(s.paths.clone())))
}

/// The softirq types upstream reports; other rows are ignored.
const TYPES: [&str; 10] = [
    "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
];

/// Each known type's per-CPU counts, in file order.
fn parse(text: &str) -> Result<Vec<(&str, Vec<u64>)>, String> {
    let mut lines = text.lines();
    lines.next().ok_or("softirqs empty")?;
    let mut out = Vec::new();
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 2 {
            continue;
        }
        let Some(kind) = parts[0].strip_suffix(':').filter(|k| TYPES.contains(k)) else {
            continue;
        };
        let counts: Vec<u64> = parts[1..]
            .iter()
            .enumerate()
            .map(|(cpu, c)| {
                c.parse()
                    .map_err(|_| format!("couldn't parse {c:?} ({kind}{cpu})"))
            })
            .collect::<Result<_, _>>()?;
        out.push((kind, counts));
    }
    Ok(out)
}

impl Collector for Softirqs {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("softirqs");
        let text = read(&path)?;
        let rows = parse(&text)
            .map_err(|e| CollectorError::parse(&path, format!("couldn't get softirqs: {e}")))?;
        let mut family = counter_family("node_softirqs_functions_total", "Softirq counts per CPU.");
        for (kind, counts) in rows {
            for (cpu, v) in counts.into_iter().enumerate() {
                family.push(&[("cpu", &cpu.to_string()), ("type", kind)], v as f64);
            }
        }
        out.push(family.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_rows() {
        let text = "      CPU0  CPU1\n  HI:  7  1\n  NEW_ONE: 3 4\n  RCU: 155929 146631\n";
        assert_eq!(
            parse(text).unwrap(),
            [("HI", vec![7, 1]), ("RCU", vec![155929, 146631])]
        );
        assert!(parse("").is_err());
        assert!(parse("CPU0\n HI: x\n").is_err());
    }
}
