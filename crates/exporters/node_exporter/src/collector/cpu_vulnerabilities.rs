//! `cpu_vulnerabilities`: the kernel's verdict on each known CPU vulnerability
//! (/sys/devices/system/cpu/vulnerabilities).

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, read, sorted_entries};

struct CpuVulnerabilities(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(CpuVulnerabilities(s.paths.clone())))
}

/// A file's state label and mitigation text. The state is read from the start of the text,
/// case-insensitively; anything unrecognised is "unknown" with the whole text as mitigation.
fn classify(raw: &str) -> (&'static str, String) {
    let text = raw.trim();
    let lower = text.to_lowercase();
    let rest = || {
        text.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    if lower.starts_with("not affected") {
        ("not affected", String::new())
    } else if lower.starts_with("vulnerable") {
        ("vulnerable", rest())
    } else if lower.starts_with("mitigation") {
        ("mitigation", rest())
    } else if lower.starts_with("unknown") {
        ("unknown", rest())
    } else {
        ("unknown", text.to_owned())
    }
}

impl Collector for CpuVulnerabilities {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.0.sys("devices/system/cpu/vulnerabilities");
        // A missing directory is an empty glob upstream: no samples, no error.
        let entries = match sorted_entries(&dir) {
            Err(CollectorError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Vec::new()
            }
            r => r?,
        };
        let mut family = gauge_family(
            "node_cpu_vulnerabilities_info",
            "Details of each CPU vulnerability reported by sysfs. The value of the series is an int encoded state of the vulnerability. The same state is stored as a string in the label",
        );
        for (name, path) in entries {
            let (state, mitigation) = classify(&read(&path)?);
            family.push(
                &[
                    ("codename", name.as_str()),
                    ("state", state),
                    ("mitigation", &mitigation),
                ],
                1.0,
            );
        }
        out.push(family.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_procfs() {
        assert_eq!(classify("Not affected\n"), ("not affected", String::new()));
        assert_eq!(classify("Vulnerable\n"), ("vulnerable", String::new()));
        assert_eq!(
            classify("Mitigation: Retpolines,  IBPB: conditional\n"),
            ("mitigation", "Retpolines, IBPB: conditional".into())
        );
        assert_eq!(
            classify("Vulnerable: Clear CPU buffers attempted, no microcode"),
            (
                "vulnerable",
                "Clear CPU buffers attempted, no microcode".into()
            )
        );
        assert_eq!(
            classify("Processor vulnerable"),
            ("unknown", "Processor vulnerable".into())
        );
    }
}
