//! OpenMetrics parser (with created-timestamp look-ahead) and the specification validator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm_common::expfmt::textparse::{
    Entry, OpenMetricsOptions, OpenMetricsParser, Parser, validate_openmetrics,
};
use pm_common::model::ScratchBuilder;

fuzz_target!(|data: &[u8]| {
    let options = OpenMetricsOptions {
        skip_created_series: true,
    };
    let mut p = OpenMetricsParser::with_options(data, options);
    let mut b = ScratchBuilder::new();
    let mut parsed = true;
    loop {
        match p.next() {
            Ok(None) => break,
            Err(_) => {
                parsed = false;
                break;
            }
            Ok(Some(Entry::Series)) => {
                p.series();
                p.labels(&mut b);
                p.exemplar();
                p.created_timestamp();
            }
            Ok(Some(Entry::Help)) => drop(p.help()),
            Ok(Some(_)) => drop((p.type_(), p.unit())),
        }
    }
    // The validator only adds rules: whatever it accepts, the parser accepts.
    if validate_openmetrics(data).is_ok() {
        assert!(parsed);
    }
});
