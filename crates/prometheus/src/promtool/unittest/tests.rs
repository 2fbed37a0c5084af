use super::report::{LabelsAndAnnotations, alerts_string, format_e, indent_lines};

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
        labels: [("alertname", "A"), ("job", "x")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
        annotations: [("empty".to_owned(), String::new())].into(),
    };
    let text = alerts_string(&[a.clone(), a]);
    assert_eq!(
        text,
        "[\n0:\n  Labels:{alertname=\"A\", job=\"x\"}\n  Annotations:{empty=\"\"},\n1:\n  Labels:{alertname=\"A\", job=\"x\"}\n  Annotations:{empty=\"\"}\n]"
    );
    assert_eq!(indent_lines("a\nb\n", "  "), "a\n  b\n  ");
}
