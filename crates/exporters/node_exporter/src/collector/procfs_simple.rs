//! Collectors over one or two small procfs files each: loadavg, filefd, entropy, pressure,
//! conntrack.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter, gauge};
use crate::paths::{Paths, read, read_trimmed};

type Built = Result<Box<dyn Collector>, ConfigError>;

/// Parses whitespace-separated numbers, naming `path` on failure.
fn numbers(path: &std::path::Path, text: &str) -> Result<Vec<f64>, CollectorError> {
    text.split_whitespace()
        .map(|f| {
            f.parse::<f64>()
                .map_err(|_| CollectorError::parse(path, format!("invalid number {f:?}")))
        })
        .collect()
}

struct Loadavg(Paths);

pub fn loadavg(s: &Settings) -> Built {
    Ok(Box::new(Loadavg(s.paths.clone())))
}

impl Collector for Loadavg {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("loadavg");
        let text = read(&path)?;
        let loads = numbers(
            &path,
            &text
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        )?;
        if loads.len() != 3 {
            return Err(CollectorError::parse(&path, "expected three load averages"));
        }
        for (i, (name, help)) in [
            ("node_load1", "1m load average."),
            ("node_load5", "5m load average."),
            ("node_load15", "15m load average."),
        ]
        .into_iter()
        .enumerate()
        {
            gauge(out, name, help, loads[i]);
        }
        Ok(())
    }
}

struct Filefd(Paths);

pub fn filefd(s: &Settings) -> Built {
    Ok(Box::new(Filefd(s.paths.clone())))
}

impl Collector for Filefd {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("sys/fs/file-nr");
        let text = read(&path)?;
        let v = numbers(&path, &text)?;
        if v.len() != 3 {
            return Err(CollectorError::parse(&path, "expected three fields"));
        }
        gauge(
            out,
            "node_filefd_allocated",
            "File descriptor statistics: allocated.",
            v[0],
        );
        gauge(
            out,
            "node_filefd_maximum",
            "File descriptor statistics: maximum.",
            v[2],
        );
        Ok(())
    }
}

struct Entropy(Paths);

pub fn entropy(s: &Settings) -> Built {
    Ok(Box::new(Entropy(s.paths.clone())))
}

impl Collector for Entropy {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        for (file, name, help) in [
            (
                "entropy_avail",
                "node_entropy_available_bits",
                "Bits of available entropy.",
            ),
            (
                "poolsize",
                "node_entropy_pool_size_bits",
                "Bits of entropy pool.",
            ),
        ] {
            let path = self.0.proc(&format!("sys/kernel/random/{file}"));
            let v = numbers(&path, &read(&path)?)?;
            gauge(out, name, help, v.first().copied().unwrap_or_default());
        }
        Ok(())
    }
}

struct Pressure(Paths);

pub fn pressure(s: &Settings) -> Built {
    Ok(Box::new(Pressure(s.paths.clone())))
}

/// The `total=` microseconds of the `some` or `full` line, in seconds.
fn psi_total(text: &str, kind: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with(kind))?;
    let total = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?;
    // Two divisions, as upstream computes it, so the last digit matches.
    Some(total.parse::<u64>().ok()? as f64 / 1000.0 / 1000.0)
}

impl Collector for Pressure {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        // (resource, emit waiting from `some`, emit stalled from `full`, waiting help, stalled help)
        const RESOURCES: [(&str, Option<&str>, Option<&str>); 4] = [
            (
                "cpu",
                Some("Total time in seconds that processes have waited for CPU time"),
                None,
            ),
            (
                "io",
                Some("Total time in seconds that processes have waited due to IO congestion"),
                Some("Total time in seconds no process could make progress due to IO congestion"),
            ),
            (
                "memory",
                Some("Total time in seconds that processes have waited for memory"),
                Some(
                    "Total time in seconds no process could make progress due to memory congestion",
                ),
            ),
            (
                "irq",
                None,
                Some("Total time in seconds no process could make progress due to IRQ congestion"),
            ),
        ];
        for (res, waiting, stalled) in RESOURCES {
            let path = self.0.proc(&format!("pressure/{res}"));
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && res == "irq" => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(CollectorError::NoData(format!(
                        "pressure information is unavailable, you need a Linux kernel >= 4.20 and/or CONFIG_PSI enabled for your kernel: {}",
                        path.display()
                    )));
                }
                Err(e) => return Err(CollectorError::io(&path, e)),
            };
            let bad = || CollectorError::parse(&path, "missing total");
            if let Some(help) = waiting {
                let v = psi_total(&text, "some").ok_or_else(bad)?;
                counter(
                    out,
                    format!("node_pressure_{res}_waiting_seconds_total"),
                    help,
                    v,
                );
            }
            if let Some(help) = stalled {
                let v = psi_total(&text, "full").ok_or_else(bad)?;
                counter(
                    out,
                    format!("node_pressure_{res}_stalled_seconds_total"),
                    help,
                    v,
                );
            }
        }
        Ok(())
    }
}

struct Conntrack(Paths);

pub fn conntrack(s: &Settings) -> Built {
    Ok(Box::new(Conntrack(s.paths.clone())))
}

impl Collector for Conntrack {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let count = self.0.proc("sys/net/netfilter/nf_conntrack_count");
        let value = match read_trimmed(&count) {
            Ok(v) => v,
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData("conntrack is not loaded".into()));
            }
            Err(e) => return Err(e),
        };
        let parse = |p: &std::path::Path, v: &str| {
            v.parse::<f64>()
                .map_err(|_| CollectorError::parse(p, format!("invalid number {v:?}")))
        };
        gauge(
            out,
            "node_nf_conntrack_entries",
            "Number of currently allocated flow entries for connection tracking.",
            parse(&count, &value)?,
        );
        let max = self.0.proc("sys/net/netfilter/nf_conntrack_max");
        gauge(
            out,
            "node_nf_conntrack_entries_limit",
            "Maximum size of connection tracking table.",
            parse(&max, &read_trimmed(&max)?)?,
        );
        let stat = self.0.proc("net/stat/nf_conntrack");
        let Ok(text) = std::fs::read_to_string(&stat) else {
            return Ok(());
        };
        let mut lines = text.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let mut sums = vec![0u64; header.len()];
        for line in lines {
            for (i, f) in line.split_whitespace().enumerate().take(header.len()) {
                sums[i] += u64::from_str_radix(f, 16)
                    .map_err(|_| CollectorError::parse(&stat, format!("invalid hex {f:?}")))?;
            }
        }
        let field = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .map_or(0.0, |i| sums[i] as f64)
        };
        for (name, help) in [
            ("found", "Number of searched entries which were successful."),
            (
                "invalid",
                "Number of packets seen which can not be tracked.",
            ),
            (
                "ignore",
                "Number of packets seen which are already connected to a conntrack entry.",
            ),
            ("insert", "Number of entries inserted into the list."),
            (
                "insert_failed",
                "Number of entries for which list insertion was attempted but failed.",
            ),
            (
                "drop",
                "Number of packets dropped due to conntrack failure.",
            ),
            (
                "early_drop",
                "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.",
            ),
            (
                "search_restart",
                "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
            ),
        ] {
            gauge(
                out,
                format!("node_nf_conntrack_stat_{name}"),
                help,
                field(name),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_total_divides_like_upstream() {
        let t = "some avg10=0.00 avg60=0.00 avg300=0.00 total=14036781\nfull avg10=0 total=0";
        assert_eq!(psi_total(t, "some"), Some(14.036781000000001));
        assert_eq!(psi_total(t, "full"), Some(0.0));
        assert_eq!(psi_total("x", "full"), None);
    }
}
