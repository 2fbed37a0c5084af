//! The probers: each takes a target and a module, talks to the target, records `probe_*`
//! metrics and says whether the probe succeeded.

mod dns;
mod grpc;
mod http;
mod icmp;
mod log;
mod metrics;
mod query_response;
mod resolve;
mod tcp;
mod tls;

use tokio::time::Instant;

use crate::config::Module;

pub use log::{Level, ProbeLog};
pub use metrics::ProbeMetrics;

/// The probers this build implements; a module naming another one is answered with
/// `Unknown prober` as upstream answers a prober it does not know.
pub const IMPLEMENTED: [&str; 6] = ["http", "tcp", "dns", "icmp", "grpc", "unix"];

/// One probe in progress.
pub struct Probe<'a> {
    pub target: &'a str,
    pub module: &'a Module,
    pub metrics: &'a ProbeMetrics,
    pub log: &'a ProbeLog,
    /// The probe is abandoned (and fails) when this passes.
    pub deadline: Instant,
}

/// Runs the module's prober; false on failure, including running past the deadline.
pub async fn run(probe: &Probe<'_>) -> bool {
    let work = async {
        match probe.module.prober.as_str() {
            "http" => http::probe(probe).await,
            "tcp" => tcp::probe(probe).await,
            "unix" => tcp::probe_unix(probe).await,
            "dns" => dns::probe(probe).await,
            "icmp" => icmp::probe(probe).await,
            "grpc" => grpc::probe(probe).await,
            _ => false,
        }
    };
    match tokio::time::timeout_at(probe.deadline, work).await {
        Ok(success) => success,
        Err(_) => {
            probe
                .log
                .error("Probe timed out", &[("err", &"context deadline exceeded")]);
            false
        }
    }
}
