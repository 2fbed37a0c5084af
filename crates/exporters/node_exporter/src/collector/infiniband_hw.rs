//! The `infiniband` collector's driver counters from
//! `/sys/class/infiniband/<device>/ports/<port>/hw_counters` (mlx5 and other RDMA drivers,
//! kernel 4.6 and later). Help texts are NVIDIA's descriptions, as upstream's.

use std::path::Path;

use pm_common::metrics::ConstFamily;

use super::infiniband::read_counter;
use crate::error::CollectorError;
use crate::metric::{counter_family, gauge_family};

/// Driver file, metric suffix and help text of each counter.
const HW_COUNTERS: [(&str, &str, &str); 30] = [
    (
        "duplicate_request",
        "duplicate_requests_packets_total",
        "The number of received packets. A duplicate request is a request that had been previously executed.",
    ),
    (
        "implied_nak_seq_err",
        "implied_nak_seq_errors_total",
        "The number of time the requested decided an ACK. with a PSN larger than the expected PSN for an RDMA read or response.",
    ),
    (
        "local_ack_timeout_err",
        "local_ack_timeout_errors_total",
        "The number of times QP's ack timer expired for RC, XRC, DCT QPs at the sender side. The QP retry limit was not exceed, therefore it is still recoverable error.",
    ),
    (
        "np_cnp_sent",
        "np_cnp_packets_sent_total",
        "The number of CNP packets sent by the Notification Point when it noticed congestion experienced in the RoCEv2 IP header (ECN bits). The counters was added in MLNX_OFED 4.1",
    ),
    (
        "np_ecn_marked_roce_packets",
        "np_ecn_marked_roce_packets_received_total",
        "The number of RoCEv2 packets received by the notification point which were marked for experiencing the congestion (ECN bits where '11' on the ingress RoCE traffic) . The counters was added in MLNX_OFED 4.1",
    ),
    (
        "out_of_buffer",
        "out_of_buffer_drops_total",
        "The number of drops occurred due to lack of WQE for the associated QPs.",
    ),
    (
        "out_of_sequence",
        "out_of_sequence_packets_received_total",
        "The number of out of sequence packets received.",
    ),
    (
        "packet_seq_err",
        "packet_sequence_errors_total",
        "The number of received NAK sequence error packets. The QP retry limit was not exceeded.",
    ),
    (
        "req_cqe_error",
        "req_cqes_errors_total",
        "The number of times requester detected CQEs completed with errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "req_cqe_flush_error",
        "req_cqes_flush_errors_total",
        "The number of times requester detected CQEs completed with flushed errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "req_remote_access_errors",
        "req_remote_access_errors_total",
        "The number of times requester detected remote access errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "req_remote_invalid_request",
        "req_remote_invalid_request_errors_total",
        "The number of times requester detected remote invalid request errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "resp_cqe_error",
        "resp_cqes_errors_total",
        "The number of times responder detected CQEs completed with errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "resp_cqe_flush_error",
        "resp_cqes_flush_errors_total",
        "The number of times responder detected CQEs completed with flushed errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "resp_local_length_error",
        "resp_local_length_errors_total",
        "The number of times responder detected local length errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "resp_remote_access_errors",
        "resp_remote_access_errors_total",
        "The number of times responder detected remote access errors. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "rnr_nak_retry_err",
        "rnr_nak_retry_packets_received_total",
        "The number of received RNR NAK packets. The QP retry limit was not exceeded.",
    ),
    (
        "roce_adp_retrans",
        "roce_adp_retransmits_total",
        "The number of adaptive retransmissions for RoCE traffic. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
    ),
    (
        "roce_adp_retrans_to",
        "roce_adp_retransmits_timeout_total",
        "The number of times RoCE traffic reached timeout due to adaptive retransmission. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
    ),
    (
        "roce_slow_restart",
        "roce_slow_restart_used_total",
        "The number of times RoCE slow restart was used. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
    ),
    (
        "roce_slow_restart_cnps",
        "roce_slow_restart_cnps_total",
        "The number of times RoCE slow restart generated CNP packets. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
    ),
    (
        "roce_slow_restart_trans",
        "roce_slow_restart_total",
        "The number of times RoCE slow restart changed state to slow restart. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
    ),
    (
        "rp_cnp_handled",
        "rp_cnp_packets_handled_total",
        "The number of CNP packets handled by the Reaction Point HCA to throttle the transmission rate. The counters was added in MLNX_OFED 4.1",
    ),
    (
        "rp_cnp_ignored",
        "rp_cnp_ignored_packets_received_total",
        "The number of CNP packets received and ignored by the Reaction Point HCA. This counter should not raise if RoCE Congestion Control was enabled in the network. If this counter raise, verify that ECN was enabled on the adapter.",
    ),
    (
        "rx_atomic_requests",
        "rx_atomic_requests_total",
        "The number of received ATOMIC request for the associated QPs.",
    ),
    (
        "rx_dct_connect",
        "rx_dct_connect_requests_total",
        "The number of received connection requests for the associated DCTs.",
    ),
    (
        "rx_icrc_encapsulated",
        "rx_icrc_encapsulated_errors_total",
        "The number of RoCE packets with ICRC errors. This counter was added in MLNX_OFED 4.4 and kernel 4.19",
    ),
    (
        "rx_read_requests",
        "rx_read_requests_total",
        "The number of received READ requests for the associated QPs.",
    ),
    (
        "rx_write_requests",
        "rx_write_requests_total",
        "The number of received WRITE requests for the associated QPs.",
    ),
    (
        "lifespan",
        "lifespan_seconds",
        "The maximum period in ms which defines the aging of the counter reads. Two consecutive reads within this period might return the same values.",
    ),
];

/// The hardware counter families of one scrape, filled port by port.
pub struct HwFamilies(Vec<ConstFamily>);

impl HwFamilies {
    pub fn new() -> Self {
        Self(
            HW_COUNTERS
                .iter()
                .map(|(_, metric, help)| {
                    let name = format!("node_infiniband_{metric}");
                    // The lifespan is a setting (a gauge); the rest count events.
                    if *metric == "lifespan_seconds" {
                        gauge_family(name, *help)
                    } else {
                        counter_family(name, *help)
                    }
                })
                .collect(),
        )
    }

    /// Adds the counters present in `port_dir/hw_counters`, when that directory exists.
    pub fn push_port(
        &mut self,
        port_dir: &Path,
        labels: &[(&str, &str)],
    ) -> Result<(), CollectorError> {
        let dir = port_dir.join("hw_counters");
        if !dir.is_dir() {
            return Ok(());
        }
        for (family, (file, metric, _)) in self.0.iter_mut().zip(HW_COUNTERS) {
            if let Some(v) = read_counter(&dir.join(file))? {
                // Milliseconds to whole seconds, truncated as upstream's integer division.
                let v = if metric == "lifespan_seconds" {
                    v / 1000
                } else {
                    v
                };
                family.push(labels, v as f64);
            }
        }
        Ok(())
    }

    pub fn into_families(self) -> impl Iterator<Item = pm_common::expfmt::dto::MetricFamily> {
        self.0.into_iter().map(ConstFamily::into_family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_common::expfmt::dto::MetricFamily;

    fn value(families: &[MetricFamily], name: &str) -> Option<f64> {
        let f = families.iter().find(|f| f.name() == name)?;
        let m = f.metric.first()?;
        m.counter
            .as_ref()
            .and_then(|c| c.value)
            .or(m.gauge.as_ref().and_then(|g| g.value))
    }

    #[test]
    fn reads_present_counters_only() {
        let dir = tempfile::tempdir().unwrap();
        let hw = dir.path().join("hw_counters");
        std::fs::create_dir(&hw).unwrap();
        for (file, text) in [
            ("out_of_buffer", "12\n"),
            ("rx_write_requests", "0x10\n"),
            ("lifespan", "2500\n"),
            ("np_cnp_sent", "N/A (no PMA)\n"),
            ("unknown_counter", "7\n"),
        ] {
            std::fs::write(hw.join(file), text).unwrap();
        }
        let mut f = HwFamilies::new();
        f.push_port(dir.path(), &[("device", "mlx5_0"), ("port", "1")])
            .unwrap();
        let families: Vec<_> = f.into_families().collect();
        assert_eq!(
            value(&families, "node_infiniband_out_of_buffer_drops_total"),
            Some(12.0)
        );
        assert_eq!(
            value(&families, "node_infiniband_rx_write_requests_total"),
            Some(16.0)
        );
        assert_eq!(
            value(&families, "node_infiniband_lifespan_seconds"),
            Some(2.0)
        );
        assert_eq!(
            value(&families, "node_infiniband_np_cnp_packets_sent_total"),
            None
        );
        assert_eq!(
            value(
                &families,
                "node_infiniband_duplicate_requests_packets_total"
            ),
            None
        );

        std::fs::write(hw.join("out_of_sequence"), "garbage\n").unwrap();
        assert!(HwFamilies::new().push_port(dir.path(), &[]).is_err());
    }

    #[test]
    fn ports_without_hw_counters_add_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = HwFamilies::new();
        f.push_port(dir.path(), &[]).unwrap();
        assert!(f.into_families().all(|f| f.metric.is_empty()));
    }
}
