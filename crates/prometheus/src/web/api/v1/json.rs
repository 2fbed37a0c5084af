//! JSON written the way upstream's API writes it (jsoniter in standard-library mode): strings
//! escaped as Go's `encoding/json` escapes them (`<`, `>`, `&`, U+2028 and U+2029 as `\u…`),
//! timestamps as seconds with millisecond fraction (`1.500`), sample values as Go's
//! `FormatFloat(v, 'f', -1, 64)` in quotes. Hand-written because the shapes are fixed and a
//! query result is the API's largest response.

use pm_common::expfmt::encode::float::push_f;
use pm_common::model::{FloatHistogram, Label, Labels};

use pm_promql::engine::{QueryTimings, Sample, Series, Value};

/// Appends `s` as a JSON string literal, escaped as Go's `encoding/json` does.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => None,
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u");
                out.push_str(&format!("{:04x}", c as u32));
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a millisecond timestamp as upstream's `MarshalTimestamp`: whole seconds, then a
/// three-digit fraction when not zero.
pub fn push_timestamp(out: &mut String, t: i64) {
    let mut t = t;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    out.push_str(itoa::Buffer::new().format(t / 1000));
    let fraction = t % 1000;
    if fraction != 0 {
        let digit = |d: i64| b'0' + d as u8;
        let digits = [
            b'.',
            digit(fraction / 100),
            digit(fraction / 10 % 10),
            digit(fraction % 10),
        ];
        out.push_str(std::str::from_utf8(&digits).expect("ASCII digits"));
    }
}

/// Appends a sample value as a quoted Go float (`"1"`, `"+Inf"`, `"NaN"`).
pub fn push_float(out: &mut String, v: f64) {
    out.push('"');
    // Whole numbers below 2^53 are exact, so their shortest round-trip digits are the integer
    // itself: counters and gauges mostly are, and itoa is several times cheaper than the
    // shortest-digits search. Zero keeps the general path for its sign.
    let magnitude = v.abs();
    if v.fract() == 0.0 && v != 0.0 && magnitude < 1e15 {
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else if (1e-5..1e15).contains(&magnitude) {
        // ryu picks the same shortest digits as Go, and for magnitudes in [1e-5, 1e16) it lays
        // them out as Go's 'f' format does, except that whole numbers end in ".0" (those
        // below 1e15 took the branch above, and every float from 2^52 on is whole). Outside
        // that range it switches to exponent form, so Go's layout is rebuilt there.
        out.push_str(ryu::Buffer::new().format_finite(v));
    } else {
        push_f(out, v);
    }
    out.push('"');
}

/// Appends `{"name":"value",…}` in the labels' order (sorted by name).
pub fn push_labels(out: &mut String, labels: &Labels) {
    push_label_pairs(out, labels.iter());
}

/// Appends `{"name":"value",…}` in the given order.
pub fn push_label_pairs<'a>(out: &mut String, pairs: impl IntoIterator<Item = Label<'a>>) {
    out.push('{');
    for (i, l) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, l.name);
        out.push(':');
        push_str(out, l.value);
    }
    out.push('}');
}

/// Appends a list of strings.
pub fn push_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, s.as_ref());
    }
    out.push(']');
}

/// Appends a `{"k":"v",…}` object of string pairs in the given order.
pub fn push_str_object<K: AsRef<str>, V: AsRef<str>>(out: &mut String, pairs: &[(K, V)]) {
    out.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k.as_ref());
        out.push(':');
        push_str(out, v.as_ref());
    }
    out.push('}');
}

/// Appends a native histogram as upstream's API shows it: count and sum as quoted floats, and
/// every non-empty bucket from the most negative upwards as
/// `[boundary rule, "lower", "upper", "count"]` (rule 0: upper bound inclusive, 1: lower
/// inclusive, 2: neither, 3: both).
pub fn push_histogram(out: &mut String, h: &FloatHistogram) {
    out.push_str("{\"count\":");
    push_float(out, h.count);
    out.push_str(",\"sum\":");
    push_float(out, h.sum);
    let mut buckets = String::new();
    let mut push_bucket = |lower: f64, upper: f64, lower_inc: bool, upper_inc: bool, count: f64| {
        if count == 0.0 {
            return;
        }
        if !buckets.is_empty() {
            buckets.push(',');
        }
        let rule = match (lower_inc, upper_inc) {
            (false, true) => 0,
            (true, false) => 1,
            (false, false) => 2,
            (true, true) => 3,
        };
        buckets.push('[');
        buckets.push_str(itoa::Buffer::new().format(rule));
        buckets.push(',');
        push_float(&mut buckets, lower);
        buckets.push(',');
        push_float(&mut buckets, upper);
        buckets.push(',');
        push_float(&mut buckets, count);
        buckets.push(']');
    };
    let negative: Vec<_> = h.negative_buckets_iter().collect();
    for b in negative.iter().rev() {
        push_bucket(
            b.lower,
            b.upper,
            b.lower_inclusive,
            b.upper_inclusive,
            b.count,
        );
    }
    if !h.uses_custom_buckets() {
        push_bucket(
            -h.zero_threshold,
            h.zero_threshold,
            true,
            true,
            h.zero_count,
        );
    }
    for b in h.positive_buckets_iter() {
        push_bucket(
            b.lower,
            b.upper,
            b.lower_inclusive,
            b.upper_inclusive,
            b.count,
        );
    }
    if !buckets.is_empty() {
        out.push_str(",\"buckets\":[");
        out.push_str(&buckets);
        out.push(']');
    }
    out.push('}');
}

fn push_point(out: &mut String, t: i64, f: f64) {
    out.push('[');
    push_timestamp(out, t);
    out.push(',');
    push_float(out, f);
    out.push(']');
}

fn push_histogram_point(out: &mut String, t: i64, h: &FloatHistogram) {
    out.push('[');
    push_timestamp(out, t);
    out.push(',');
    push_histogram(out, h);
    out.push(']');
}

fn push_sample(out: &mut String, s: &Sample) {
    out.push_str("{\"metric\":");
    push_labels(out, &s.metric);
    match &s.h {
        Some(h) => {
            out.push_str(",\"histogram\":");
            push_histogram_point(out, s.t, h);
        }
        None => {
            out.push_str(",\"value\":");
            push_point(out, s.t, s.f);
        }
    }
    out.push('}');
}

fn push_series(out: &mut String, s: &Series) {
    out.push_str("{\"metric\":");
    push_labels(out, &s.metric);
    if !s.floats.is_empty() {
        out.push_str(",\"values\":[");
        for (i, p) in s.floats.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_point(out, p.t, p.f);
        }
        out.push(']');
    }
    if !s.histograms.is_empty() {
        out.push_str(",\"histograms\":[");
        for (i, p) in s.histograms.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_histogram_point(out, p.t, &p.h);
        }
        out.push(']');
    }
    out.push('}');
}

/// Appends `{"resultType":…,"result":…}`.
pub fn push_query_data(out: &mut String, value: &Value) {
    out.push_str("{\"resultType\":");
    push_str(out, value.type_name());
    out.push_str(",\"result\":");
    match value {
        // Scalars and strings go through Go's `encoding/json` upstream: the time is a plain
        // float there (`1.5`, not `1.500`).
        Value::Scalar { t, v } => {
            out.push('[');
            push_f(out, *t as f64 / 1000.0);
            out.push(',');
            push_float(out, *v);
            out.push(']');
        }
        Value::String { t, s } => {
            out.push('[');
            push_f(out, *t as f64 / 1000.0);
            out.push(',');
            push_str(out, s);
            out.push(']');
        }
        Value::Vector(v) => {
            out.push('[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_sample(out, s);
            }
            out.push(']');
        }
        Value::Matrix(m) => {
            out.push('[');
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_series(out, s);
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// Appends a float as Go's `encoding/json` writes a `float64`: the shortest decimal that
/// round-trips, in exponent form (`1e-7`, `1e+21`) only below 1e-6 or from 1e21 on.
pub fn push_json_float(out: &mut String, v: f64) {
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                out.push_str(mantissa);
                out.push_str("e+");
                out.push_str(exp);
            }
            _ => out.push_str(&s),
        }
    } else {
        out.push_str(&format!("{v}"));
    }
}

/// Appends upstream's `timings` object of query statistics, in seconds.
pub fn push_query_timings(out: &mut String, t: &QueryTimings) {
    let fields = [
        ("evalTotalTime", t.eval_total),
        ("resultSortTime", t.result_sort),
        ("queryPreparationTime", t.query_preparation),
        ("innerEvalTime", t.inner_eval),
        ("execQueueTime", t.exec_queue),
        ("execTotalTime", t.exec_total),
    ];
    out.push('{');
    for (i, (name, d)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        push_json_float(out, d.as_secs_f64());
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_go() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\n<&>\u{1}\u{2028}é");
        assert_eq!(out, r#""a\"b\\c\n\u003c\u0026\u003e\u0001\u2028é""#);
    }

    #[test]
    fn timestamps_and_floats() {
        let cases = [
            (1_500, "1.500"),
            (1_000, "1"),
            (-1_005, "-1.005"),
            (12_345_678, "12345.678"),
        ];
        for (t, want) in cases {
            let mut out = String::new();
            push_timestamp(&mut out, t);
            assert_eq!(out, want);
        }
        let mut out = String::new();
        push_float(&mut out, f64::INFINITY);
        push_float(&mut out, 1e21);
        push_float(&mut out, 0.1);
        assert_eq!(out, r#""+Inf""1000000000000000000000""0.1""#);
    }

    #[test]
    fn whole_numbers_as_the_general_formatter() {
        let mut values = vec![
            -0.0,
            0.0,
            1.0,
            -1.0,
            999_999_999_999_999.0,
            1e15,
            -1e15,
            2e15,
        ];
        values.extend((0..60).map(|e| 2f64.powi(e) + 1.0));
        values.extend((0..16).map(|e| -(10f64.powi(e))));
        for v in values {
            let mut fast = String::new();
            push_float(&mut fast, v);
            assert_eq!(
                fast,
                format!("\"{}\"", pm_common::expfmt::encode::float::format_f(v))
            );
        }
    }

    #[test]
    fn fractions_as_the_general_formatter() {
        let mut values = vec![
            0.1,
            -0.1,
            1.5,
            1e-5,
            1.5e-5,
            9.99e-6,
            1e-7,
            123.456,
            1e16 + 2.0,
            1.5e16,
            1e300,
            5e-324,
            0.3,
            2.0 / 3.0,
            -1e-300,
            1e15 + 0.5,
            9_007_199_254_740_993.0,
        ];
        // Deterministic pseudo-random bit patterns cover every magnitude and digit count.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                values.push(v);
                // And the same digits near the magnitudes samples usually have.
                values.push(v.abs().log2().fract() * 1e3 - 500.0);
            }
        }
        for v in values {
            let mut fast = String::new();
            push_float(&mut fast, v);
            assert_eq!(
                fast,
                format!("\"{}\"", pm_common::expfmt::encode::float::format_f(v)),
                "{v:e}"
            );
        }
    }

    #[test]
    fn vector_and_scalar() {
        let v = Value::Vector(vec![Sample::float(
            Labels::from_pairs([("__name__", "up"), ("job", "a")]),
            2_000,
            1.0,
        )]);
        let mut out = String::new();
        push_query_data(&mut out, &v);
        assert_eq!(
            out,
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[2,"1"]}]}"#
        );
        let mut out = String::new();
        push_query_data(
            &mut out,
            &Value::Scalar {
                t: 1_500,
                v: f64::NAN,
            },
        );
        assert_eq!(out, r#"{"resultType":"scalar","result":[1.5,"NaN"]}"#);
    }

    #[test]
    fn histogram_buckets_from_most_negative() {
        let h = FloatHistogram {
            count: 6.0,
            sum: 3.5,
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 1.0,
            positive_spans: vec![pm_common::model::Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![2.0, 1.0],
            negative_spans: vec![pm_common::model::Span {
                offset: 0,
                length: 2,
            }],
            negative_buckets: vec![1.0, 1.0],
            ..FloatHistogram::default()
        };
        let mut out = String::new();
        push_histogram(&mut out, &h);
        assert_eq!(
            out,
            r#"{"count":"6","sum":"3.5","buckets":[[1,"-2","-1","1"],[1,"-1","-0.5","1"],[3,"-0.001","0.001","1"],[0,"0.5","1","2"],[0,"1","2","1"]]}"#
        );
    }
}
