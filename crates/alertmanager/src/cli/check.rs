//! `amtool check-config`.

use crate::config::Config;
use crate::template::Templates;

/// Checks each file as upstream does, returning the report and how many files failed.
pub fn check_files(files: &[String]) -> (String, usize) {
    let mut out = String::new();
    let mut failed = 0;
    for file in files {
        out.push_str(&format!("Checking '{file}'"));
        match Config::load_file(file) {
            Err(err) => {
                out.push_str(&format!("  FAILED: {err}\n"));
                failed += 1;
            }
            Ok(cfg) => {
                out.push_str("  SUCCESS\n");
                out.push_str("Found:\n - global config\n - route\n");
                out.push_str(&format!(
                    " - {} inhibit rules\n - {} receivers\n - {} templates\n",
                    cfg.inhibit_rules.len(),
                    cfg.receivers.len(),
                    cfg.templates.len()
                ));
                if !cfg.templates.is_empty() {
                    match check_templates(&cfg.templates) {
                        Ok(()) => out.push_str("  SUCCESS\n"),
                        Err(err) => {
                            out.push_str(&format!("  FAILED: {err}\n"));
                            failed += 1;
                        }
                    }
                }
            }
        }
        out.push('\n');
    }
    (out, failed)
}

/// Parses the templates as the daemon does (built-ins first, then each glob's files), so a
/// syntax error shows here rather than at the next reload; globs that match nothing are fine,
/// as upstream's `FromGlobs` allows.
fn check_templates(globs: &[String]) -> Result<(), String> {
    Templates::load(globs).map(drop).map_err(|e| e.to_string())
}
