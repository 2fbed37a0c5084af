//! Protobuf exposition decoder: any input must decode or return an error, never panic; whatever
//! decodes must re-encode to bytes that decode and re-encode identically (bytes, not families,
//! are compared so that NaN values compare equal).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm_common::expfmt::proto::{decode_delimited, encode_delimited_all};

fuzz_target!(|data: &[u8]| {
    if let Ok(families) = decode_delimited(data) {
        let mut once = Vec::new();
        encode_delimited_all(&families, &mut once);
        let mut twice = Vec::new();
        encode_delimited_all(&decode_delimited(&once).unwrap(), &mut twice);
        assert_eq!(once, twice);
    }
});
