//! `xfrm`: IPsec transformation error counters from /proc/net/xfrm_stat.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter};
use crate::paths::{Paths, read};

struct Xfrm(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Xfrm(s.paths.clone())))
}

/// Every counter upstream reports (0 when the kernel does not list it): file key, metric
/// prefix (before `_packets_total`) and help text from the kernel's xfrm_proc documentation.
const COUNTERS: [(&str, &str, &str); 28] = [
    ("XfrmInError", "in_error", "All errors not matched by other"),
    ("XfrmInBufferError", "in_buffer_error", "No buffer is left"),
    ("XfrmInHdrError", "in_hdr_error", "Header error"),
    (
        "XfrmInNoStates",
        "in_no_states",
        "No state is found i.e. Either inbound SPI, address, or IPsec protocol at SA is wrong",
    ),
    (
        "XfrmInStateProtoError",
        "in_state_proto_error",
        "Transformation protocol specific error e.g. SA key is wrong",
    ),
    (
        "XfrmInStateModeError",
        "in_state_mode_error",
        "Transformation mode specific error",
    ),
    (
        "XfrmInStateSeqError",
        "in_state_seq_error",
        "Sequence error i.e. Sequence number is out of window",
    ),
    ("XfrmInStateExpired", "in_state_expired", "State is expired"),
    (
        "XfrmInStateMismatch",
        "in_state_mismatch",
        "State has mismatch option e.g. UDP encapsulation type is mismatch",
    ),
    ("XfrmInStateInvalid", "in_state_invalid", "State is invalid"),
    (
        "XfrmInTmplMismatch",
        "in_tmpl_mismatch",
        "No matching template for states e.g. Inbound SAs are correct but SP rule is wrong",
    ),
    (
        "XfrmInNoPols",
        "in_no_pols",
        "No policy is found for states e.g. Inbound SAs are correct but no SP is found",
    ),
    ("XfrmInPolBlock", "in_pol_block", "Policy discards"),
    ("XfrmInPolError", "in_pol_error", "Policy error"),
    (
        "XfrmOutError",
        "out_error",
        "All errors which is not matched others",
    ),
    (
        "XfrmOutBundleGenError",
        "out_bundle_gen_error",
        "Bundle generation error",
    ),
    (
        "XfrmOutBundleCheckError",
        "out_bundle_check_error",
        "Bundle check error",
    ),
    ("XfrmOutNoStates", "out_no_states", "No state is found"),
    (
        "XfrmOutStateProtoError",
        "out_state_proto_error",
        "Transformation protocol specific error",
    ),
    (
        "XfrmOutStateModeError",
        "out_state_mode_error",
        "Transformation mode specific error",
    ),
    (
        "XfrmOutStateSeqError",
        "out_state_seq_error",
        "Sequence error i.e. Sequence number overflow",
    ),
    (
        "XfrmOutStateExpired",
        "out_state_expired",
        "State is expired",
    ),
    ("XfrmOutPolBlock", "out_pol_block", "Policy discards"),
    ("XfrmOutPolDead", "out_pol_dead", "Policy is dead"),
    ("XfrmOutPolError", "out_pol_error", "Policy error"),
    (
        "XfrmFwdHdrError",
        "fwd_hdr_error",
        "Forward routing of a packet is not allowed",
    ),
    (
        "XfrmOutStateInvalid",
        "out_state_invalid",
        "State is invalid, perhaps expired",
    ),
    (
        "XfrmAcquireError",
        "acquire_error",
        "State hasn’t been fully acquired before use",
    ),
];

/// The value of each known counter, by position in [`COUNTERS`]; every line must be
/// `<name> <integer>`.
fn parse(text: &str) -> Result<[i64; 28], String> {
    let mut values = [0; 28];
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, value] = fields[..] else {
            return Err(format!("invalid line {line:?}"));
        };
        let v = value
            .parse()
            .map_err(|_| format!("invalid number {value:?}"))?;
        if let Some(i) = COUNTERS.iter().position(|c| c.0 == name) {
            values[i] = v;
        }
    }
    Ok(values)
}

impl Collector for Xfrm {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("net/xfrm_stat");
        let values = parse(&read(&path)?).map_err(|e| CollectorError::parse(&path, e))?;
        for ((_, metric, help), v) in COUNTERS.iter().zip(values) {
            counter(
                out,
                format!("node_xfrm_{metric}_packets_total"),
                help,
                v as f64,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_lines_fill_their_counter() {
        let v = parse("XfrmInError 1\nXfrmAcquireError\t24532\nXfrmNew 9\n").unwrap();
        assert_eq!((v[0], v[27], v[1]), (1, 24532, 0));
        assert!(parse("XfrmInError\n").is_err());
        assert!(parse("XfrmInError x\n").is_err());
    }
}
