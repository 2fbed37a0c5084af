//! `promtool`: checks configuration, rule files and metrics, queries a server, unit-tests
//! rules, reads and backfills TSDB blocks and pushes metrics, with the command line of
//! upstream's promtool.

fn main() -> std::process::ExitCode {
    pm_prometheus::promtool::main()
}
