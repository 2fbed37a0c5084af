//! Property tests: no input panics any entry point, and rendered samples parse back.

use proptest::prelude::*;

use super::*;
use crate::model::Labels;

/// Drives a parser to the end, exercising every accessor of every entry.
fn drain<'a>(mut p: impl Parser<'a>) {
    let mut b = ScratchBuilder::new();
    while let Ok(Some(e)) = p.next() {
        match e {
            Entry::Help => drop(p.help()),
            Entry::Type => drop(p.type_()),
            Entry::Unit => drop(p.unit()),
            Entry::Comment => drop(p.comment()),
            Entry::Series => {
                p.series();
                p.labels(&mut b);
                p.exemplar();
                p.created_timestamp();
                p.metric_type();
            }
        }
    }
}

/// Escapes a label value for both text formats.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

/// Inputs that look like expositions, to reach deeper states than uniform bytes do.
fn exposition_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just("# HELP ".to_string()),
        Just("# TYPE ".to_string()),
        Just("# UNIT ".to_string()),
        Just("# EOF".to_string()),
        Just("counter".to_string()),
        Just("histogram".to_string()),
        Just("summary".to_string()),
        Just("_bucket".to_string()),
        Just("_total".to_string()),
        Just("_created".to_string()),
        Just("{le=\"+Inf\"}".to_string()),
        Just("{quantile=\"0.5\"}".to_string()),
        Just(" # {a=\"b\"} 1 2".to_string()),
        "[a-z_{}=\",. #\\\\\n\"0-9-]{0,6}",
    ];
    proptest::collection::vec(token, 0..24).prop_map(|t| t.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        drain(PromParser::new(&input));
        let options = OpenMetricsOptions { skip_created_series: true };
        drain(OpenMetricsParser::with_options(&input, options));
        let _ = validate_openmetrics(&input);
        let _ = decode_text_families(&input);
    }

    #[test]
    fn exposition_like_input_never_panics(input in exposition_like()) {
        drain(PromParser::new(&input));
        let options = OpenMetricsOptions { skip_created_series: true };
        drain(OpenMetricsParser::with_options(&input, options));
        let _ = validate_openmetrics(&input);
        let _ = decode_text_families(&input);
    }

    #[test]
    fn rendered_samples_parse_back(
        name in "[a-zA-Z_:][a-zA-Z0-9_:]{0,10}",
        labels in proptest::collection::btree_map("[a-z][a-z0-9_]{0,6}", "\\PC{0,8}", 0..4),
        value in any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ts in proptest::option::of(0i64..4_000_000_000_000),
    ) {
        let block: Vec<String> =
            labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let series = format!("{name}{{{}}}", block.join(","));
        let expected = Labels::from_pairs(
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain([("__name__", name.as_str())]),
        );
        let mut b = ScratchBuilder::new();

        let text = match ts {
            Some(ts) => format!("{series} {value:?} {ts}\n"),
            None => format!("{series} {value:?}\n"),
        };
        let mut p = PromParser::new(text.as_bytes());
        prop_assert_eq!(p.next().unwrap(), Some(Entry::Series));
        prop_assert_eq!(p.series(), (series.as_bytes(), ts, value));
        p.labels(&mut b);
        prop_assert_eq!(b.labels(), expected.clone());

        let om = match ts {
            Some(ts) => format!("{series} {value:?} {}.{:03}\n# EOF\n", ts / 1000, ts % 1000),
            None => format!("{series} {value:?}\n# EOF\n"),
        };
        let mut p = OpenMetricsParser::new(om.as_bytes());
        prop_assert_eq!(p.next().unwrap(), Some(Entry::Series));
        let (raw, got_ts, got_value) = p.series();
        prop_assert_eq!((raw, got_value), (series.as_bytes(), value));
        // Float seconds may lose the last millisecond to rounding, as upstream.
        let close = match (got_ts, ts) {
            (Some(a), Some(b)) => (a - b).abs() <= 1,
            (a, b) => a == b,
        };
        prop_assert!(close, "timestamp {:?} vs {:?}", got_ts, ts);
        p.labels(&mut b);
        prop_assert_eq!(b.labels(), expected);
        prop_assert_eq!(p.next().unwrap(), None);

        let fams = decode_text_families(text.as_bytes()).unwrap();
        prop_assert_eq!(fams.len(), 1);
        let m = &fams[0].metric[0];
        prop_assert_eq!(m.untyped.as_ref().and_then(|u| u.value), Some(value));
        prop_assert_eq!(m.timestamp_ms, ts);
        let pairs: Vec<(String, String)> =
            m.label.iter().map(|l| (l.name().to_owned(), l.value().to_owned())).collect();
        let want: Vec<(String, String)> = labels.into_iter().collect();
        prop_assert_eq!(pairs, want);
    }
}
