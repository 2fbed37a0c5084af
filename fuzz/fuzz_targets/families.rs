//! Whole-family decoder: errors carry a line number within the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm_common::expfmt::textparse::decode_text_families;

fuzz_target!(|data: &[u8]| {
    match decode_text_families(data) {
        Ok(families) => assert!(families.iter().all(|f| !f.metric.is_empty())),
        Err(e) => assert!(e.line >= 1 && e.line <= data.len() + 1, "{e}"),
    }
});
