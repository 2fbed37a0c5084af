use super::report::{LabelsAndAnnotations, alerts_string, format_e, indent_lines};
use pm_common::model::Labels;

#[test]
fn floats_print_as_go_exponent_form() {
    assert_eq!(format_e(1.0), "1E+00");
    assert_eq!(format_e(35.0), "3.5E+01");
    assert_eq!(format_e(-2.5e-7), "-2.5E-07");
    assert_eq!(format_e(1.5e300), "1.5E+300");
    assert_eq!(format_e(0.0), "0E+00");
    assert_eq!(format_e(f64::NAN), "NaN");
    assert_eq!(format_e(f64::NEG_INFINITY), "-Inf");
}

#[test]
fn alert_lists_are_numbered_and_indented() {
    assert_eq!(alerts_string(&[]), "[]");
    let a = LabelsAndAnnotations {
        labels: Labels::from_pairs([("alertname", "A"), ("job", "x")]),
        annotations: Labels::default(),
    };
    let text = alerts_string(&[a.clone(), a]);
    assert_eq!(
        text,
        "[\n0:\n  Labels:{alertname=\"A\", job=\"x\"}\n  Annotations:{},\n1:\n  Labels:{alertname=\"A\", job=\"x\"}\n  Annotations:{}\n]"
    );
    assert_eq!(indent_lines("a\nb\n", "  "), "a\n  b\n  ");
}
