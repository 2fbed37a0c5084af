//! `promtool`: checks configuration, rule files and metrics, and queries a server, with the
//! command line of upstream's promtool.

fn main() -> std::process::ExitCode {
    pm_prometheus::promtool::main()
}
