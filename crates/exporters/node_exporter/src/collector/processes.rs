//! `processes`: process and thread counts by state from /proc/<pid>/stat and
//! /proc/<pid>/task/<tid>/stat, with the kernel's PID and thread limits.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge, gauge_family};
use crate::paths::{Paths, read_u64};

struct Processes(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Processes(s.paths.clone())))
}

/// The two fields of a `stat` file this collector needs.
#[derive(Debug, PartialEq)]
struct Stat {
    state: String,
    num_threads: u64,
}

/// Parses a `stat` line. The command name may hold spaces and parentheses, so the fields
/// start after its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: (*fields.first()?).to_owned(),
        num_threads: fields.get(17)?.parse().ok()?,
    })
}

/// A process or thread that exited while being read is skipped, as upstream does.
fn vanished(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
        || e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error())
}

/// The numeric entries of a directory (PIDs or TIDs).
fn ids(dir: &Path) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        if let Some(id) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Reads a `stat` file; `Ok(None)` when its process is gone.
fn read_stat(path: &Path) -> Result<Option<Stat>, CollectorError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_stat(&text)
            .map(Some)
            .ok_or_else(|| CollectorError::parse(path, "too few fields")),
        Err(e) if vanished(&e) => Ok(None),
        Err(e) => Err(CollectorError::io(path, e)),
    }
}

#[derive(Default)]
struct Counts {
    pids: u64,
    threads: u64,
    states: BTreeMap<String, u64>,
    thread_states: BTreeMap<String, u64>,
}

impl Processes {
    fn count(&self) -> Result<Counts, CollectorError> {
        let proc = &self.0.procfs;
        let pids = ids(proc).map_err(|e| CollectorError::io(proc, e))?;
        let mut c = Counts::default();
        for pid in pids {
            let Some(stat) = read_stat(&proc.join(format!("{pid}/stat")))? else {
                continue;
            };
            c.pids += 1;
            c.threads += stat.num_threads;
            self.count_threads(pid, &stat, &mut c.thread_states)?;
            *c.states.entry(stat.state).or_default() += 1;
        }
        Ok(c)
    }

    fn count_threads(
        &self,
        pid: u64,
        stat: &Stat,
        states: &mut BTreeMap<String, u64>,
    ) -> Result<(), CollectorError> {
        let task = self.0.procfs.join(format!("{pid}/task"));
        let tids = match ids(&task) {
            Ok(tids) => tids,
            Err(e) if vanished(&e) => return Ok(()),
            Err(e) => return Err(CollectorError::io(&task, e)),
        };
        for tid in tids {
            let state = if tid == pid {
                stat.state.clone()
            } else {
                match read_stat(&task.join(format!("{tid}/stat")))? {
                    Some(t) => t.state,
                    None => continue,
                }
            };
            *states.entry(state).or_default() += 1;
        }
        Ok(())
    }
}

impl Collector for Processes {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let c = self.count()?;
        gauge(
            out,
            "node_processes_threads",
            "Allocated threads in system",
            c.threads as f64,
        );
        let max_threads = read_u64(&self.0.proc("sys/kernel/threads-max"))?;
        gauge(
            out,
            "node_processes_max_threads",
            "Limit of threads in the system",
            max_threads as f64,
        );
        let mut states = gauge_family("node_processes_state", "Number of processes in each state.");
        for (state, n) in &c.states {
            states.push(&[("state", state)], *n as f64);
        }
        let mut thread_states = gauge_family(
            "node_processes_threads_state",
            "Number of threads in each state.",
        );
        for (state, n) in &c.thread_states {
            thread_states.push(&[("thread_state", state)], *n as f64);
        }
        out.push(states.into_family());
        out.push(thread_states.into_family());
        let pid_max = read_u64(&self.0.proc("sys/kernel/pid_max"))?;
        gauge(out, "node_processes_pids", "Number of PIDs", c.pids as f64);
        gauge(
            out,
            "node_processes_max_processes",
            "Number of max PIDs limit",
            pid_max as f64,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_follow_the_last_parenthesis() {
        let line = "17 (a (b) c) S 2 0 0 0 -1 2129984 0 0 0 0 14 0 0 0 20 0 7 0 24 0 0";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: "S".into(),
                num_threads: 7
            })
        );
        assert_eq!(parse_stat("1 (x) S 0 1"), None);
    }

    #[test]
    fn counts_processes_and_threads_by_state() {
        let dir = tempfile::tempdir().unwrap();
        let stat = |state: &str, threads: u32| {
            format!("1 (x) {state} 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 {threads} 0 29 0 0\n")
        };
        for (path, text) in [
            ("1/stat", stat("S", 2)),
            ("1/task/1/stat", stat("S", 2)),
            ("1/task/2/stat", stat("R", 2)),
            ("2/stat", stat("I", 1)),
            ("sys/kernel/threads-max", "100\n".into()),
            ("sys/kernel/pid_max", "50\n".into()),
            ("self/stat", stat("Z", 1)),
        ] {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let paths = Paths {
            procfs: dir.path().into(),
            ..Paths::default()
        };
        let c = Processes(paths).count().unwrap();
        assert_eq!((c.pids, c.threads), (2, 3));
        assert_eq!(c.states.get("S"), Some(&1));
        assert_eq!(c.states.get("I"), Some(&1));
        assert_eq!(c.thread_states.get("R"), Some(&1));
        assert_eq!(c.thread_states.get("S"), Some(&1));
        assert_eq!(c.thread_states.get("I"), None);
    }
}
