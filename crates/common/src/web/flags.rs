//! The web flags every daemon shares (`--web.listen-address`, `--web.config.file`).

use std::marker::PhantomData;
use std::path::PathBuf;

/// The per-daemon default of `--web.listen-address` (`:9090` for Prometheus, `:9100` for the
/// node exporter, …), given as a type so that [`WebFlags`] can be flattened into a clap derive
/// struct and still show the right default in `--help`.
///
/// ```
/// use pm_common::web::{DefaultListenAddress, WebFlags};
///
/// struct NodeExporter;
/// impl DefaultListenAddress for NodeExporter {
///     const ADDRESS: &'static str = ":9100";
/// }
///
/// #[derive(clap::Parser)]
/// struct Cli {
///     #[command(flatten)]
///     web: WebFlags<NodeExporter>,
/// }
///
/// let cli = <Cli as clap::Parser>::parse_from(["node_exporter"]);
/// assert_eq!(cli.web.listen_addresses, [":9100"]);
/// ```
pub trait DefaultListenAddress {
    const ADDRESS: &'static str;
}

/// `--web.listen-address` (repeatable) and `--web.config.file`.
#[derive(Debug, Clone, clap::Args)]
pub struct WebFlags<D: DefaultListenAddress + Send + Sync + 'static> {
    /// Addresses on which to expose metrics and web interface. Repeatable for multiple
    /// addresses. Examples: `:9100` or `[::1]:9100` for http.
    #[arg(long = "web.listen-address", value_name = "ADDRESS", default_value = D::ADDRESS)]
    pub listen_addresses: Vec<String>,

    /// Path to configuration file that can enable TLS or authentication. See:
    /// https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    #[arg(skip)]
    _default: PhantomData<fn() -> D>,
}

impl<D: DefaultListenAddress + Send + Sync + 'static> WebFlags<D> {
    /// Flags as given programmatically (tests, embedding) rather than parsed.
    pub fn new(listen_addresses: Vec<String>, config_file: Option<PathBuf>) -> Self {
        Self {
            listen_addresses,
            config_file,
            _default: PhantomData,
        }
    }
}

impl<D: DefaultListenAddress + Send + Sync + 'static> Default for WebFlags<D> {
    fn default() -> Self {
        Self::new(vec![D::ADDRESS.to_owned()], None)
    }
}
