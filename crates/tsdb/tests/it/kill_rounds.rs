//! The SIGKILL loop the crash tests share. The test executable re-runs itself as the child (one
//! `#[test]` that does nothing unless its environment variable names a directory); the child
//! commits batches and prints `committed <b>` after each, and the parent kills it after a
//! pseudo-random number of acknowledgements.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Which child to run and how hard to push it.
pub struct KillRounds<'a> {
    /// The child test's full name, e.g. `crash_db::crash_db_child`.
    pub child: &'a str,
    /// The variable that hands the child its directory.
    pub env: &'a str,
    pub rounds: u32,
    /// Each round kills the child after 1..=`max_batches` acknowledged batches.
    pub max_batches: u64,
    /// Seeds the xorshift that picks the kill points, so a failing round can be replayed.
    pub seed: u64,
}

impl KillRounds<'_> {
    /// Runs the rounds on `dir`. After each kill, `check(round, acked)` gets the newest batch
    /// the child acknowledged (-1 for none yet) and returns the newest batch actually stored,
    /// which may be one more: a commit can land between the child's write and its report.
    pub fn run(&self, dir: &Path, mut check: impl FnMut(u32, i64) -> i64) {
        let exe = std::env::current_exe().unwrap();
        let mut seed = self.seed;
        let mut acked: i64 = -1;
        for round in 0..self.rounds {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let kill_after = 1 + seed % self.max_batches;
            let mut child = Command::new(&exe)
                .args(["--exact", self.child, "--nocapture", "--test-threads=1"])
                .env(self.env, dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut note = |line: String| match line.strip_prefix("committed ") {
                Some(b) => {
                    acked = b.parse().unwrap();
                    true
                }
                None => false,
            };
            let mut seen = 0;
            for line in lines.by_ref() {
                if note(line.unwrap()) {
                    seen += 1;
                    if seen == kill_after {
                        break;
                    }
                }
            }
            // Child::kill sends SIGKILL: no destructor, flush or fsync runs in the child.
            child.kill().unwrap();
            child.wait().unwrap();
            assert_eq!(seen, kill_after, "round {round}: child stopped early");
            // The child ran on while we stopped reading; what it acknowledged before dying is
            // still in the pipe.
            for line in lines {
                note(line.unwrap());
            }
            acked = check(round, acked);
        }
    }
}
