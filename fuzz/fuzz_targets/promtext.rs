//! Prometheus text parser: any input must end in `Ok(None)` or an error, never a panic, with
//! every accessor callable on every entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pm_common::expfmt::textparse::{Entry, Parser, PromParser};
use pm_common::model::ScratchBuilder;

fuzz_target!(|data: &[u8]| {
    let mut p = PromParser::new(data);
    let mut b = ScratchBuilder::new();
    while let Ok(Some(e)) = p.next() {
        match e {
            Entry::Help => drop(p.help()),
            Entry::Type => drop(p.type_()),
            Entry::Unit => drop(p.unit()),
            Entry::Comment => drop(p.comment()),
            Entry::Series => {
                let (raw, _, _) = p.series();
                assert!(!raw.is_empty());
                p.labels(&mut b);
                assert!(b.iter().next().is_some_and(|l| !l.name.is_empty()));
                p.metric_type();
            }
        }
    }
});
