//! Byte-level building blocks shared by the streaming parsers: character classes, quoted
//! strings, escapes, numbers, label spans and error context.

use std::borrow::Cow;

use memchr::memchr3;

use super::error::{ParseError, ParseErrorKind};
use crate::model::{BUCKET_LABEL, METRIC_NAME_LABEL, MetricType, QUANTILE_LABEL, ScratchBuilder};

/// A byte range `start..end` of the input.
pub(super) type Span = (usize, usize);

/// Where the name and the (still escaped) value of one label sit in the input.
#[derive(Clone, Copy, Debug)]
pub(super) struct LabelSpan {
    pub name: Span,
    pub value: Span,
}

pub(super) fn is_metric_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

/// Byte classes for the name scanners, which run over every byte of every series name:
/// bit 0 marks metric name characters, bit 1 label name characters.
static NAME_CHARS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[i] = 0b11;
        } else if b == b':' {
            t[i] = 0b01;
        }
        i += 1;
    }
    t
};

pub(super) fn is_metric_char(b: u8) -> bool {
    NAME_CHARS[usize::from(b)] & 0b01 != 0
}

pub(super) fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(super) fn is_label_char(b: u8) -> bool {
    NAME_CHARS[usize::from(b)] & 0b10 != 0
}

/// The end of the run of bytes from `pos` that satisfy `f`.
pub(super) fn scan_while(buf: &[u8], mut pos: usize, f: impl Fn(u8) -> bool) -> usize {
    while pos < buf.len() && f(buf[pos]) {
        pos += 1;
    }
    pos
}

/// Skips spaces and tabs (the Prometheus text format's notion of whitespace).
pub(super) fn skip_blank(buf: &[u8], pos: usize) -> usize {
    scan_while(buf, pos, |b| b == b' ' || b == b'\t')
}

/// The end of the current line: the index of its `\n`, or the input length.
pub(super) fn line_end(buf: &[u8], pos: usize) -> usize {
    memchr::memchr(b'\n', &buf[pos.min(buf.len())..]).map_or(buf.len(), |i| pos + i)
}

/// Scans a double-quoted string whose opening quote is at `pos`; returns the index after the
/// closing quote. A backslash escapes any byte but a newline; raw newlines are accepted only
/// where the format allows them.
pub(super) fn scan_quoted(buf: &[u8], pos: usize, allow_newline: bool) -> Option<usize> {
    let mut i = pos + 1;
    // Label values are mostly short and plain: a byte loop over them costs less than setting
    // up `memchr3`, which takes over at the first escape or newline or after 32 bytes.
    let short_end = buf.len().min(i + 32);
    while i < short_end {
        match buf[i] {
            b'"' => return Some(i + 1),
            b'\\' | b'\n' => break,
            _ => i += 1,
        }
    }
    while i < buf.len() {
        let off = memchr3(b'"', b'\\', b'\n', &buf[i..])?;
        i += off;
        match buf[i] {
            b'"' => return Some(i + 1),
            b'\\' if i + 1 < buf.len() && buf[i + 1] != b'\n' => i += 2,
            b'\n' if allow_newline => i += 1,
            _ => return None,
        }
    }
    None
}

/// Undoes label-value escaping: `\\`, `\"` and `\n`; any other backslash is kept literally,
/// as upstream's replacer does. Allocates only when there is a backslash.
pub(super) fn unescape(raw: &str, with_quote: bool) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if with_quote => out.push('"'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    Cow::Owned(out)
}

/// Decodes `bytes` known to be UTF-8 (the parsers validate names and values before handing
/// out spans); invalid input degrades to replacement characters instead of panicking.
pub(super) fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Parses a float as Go's `strconv.ParseFloat` restricted to pre-Go-1.13 syntax (no hex, no
/// underscores), which is what every upstream text parser accepts.
pub(super) fn parse_float(s: &[u8]) -> Result<f64, &'static str> {
    if let Some(v) = parse_plain_decimal(s) {
        return Ok(v);
    }
    if s.iter().any(|&b| matches!(b, b'p' | b'P' | b'_')) {
        return Err("unsupported character in float");
    }
    let s = std::str::from_utf8(s).map_err(|_| "invalid syntax")?;
    let v: f64 = s.parse().map_err(|_| "invalid syntax")?;
    let unsigned = s.trim_start_matches(['+', '-']);
    let word = unsigned
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic());
    if v.is_nan() && unsigned.len() != s.len() {
        // Go accepts a sign on infinities only.
        return Err("invalid syntax");
    }
    if v.is_infinite() && !word {
        return Err("value out of range");
    }
    Ok(v)
}

/// Exact powers of ten up to 10^18: every one is a double without rounding.
const POW10: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// The common case of sample values, `[-]digits[.digits]` with a mantissa of at most 2^53,
/// without the general parser. Such a mantissa and the power of ten are both exact doubles,
/// so one IEEE division rounds correctly and gives the same result as the general parser
/// (Clinger's fast path). `None` for anything else.
fn parse_plain_decimal(s: &[u8]) -> Option<f64> {
    let (negative, body) = match s.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, s),
    };
    // 19 bytes hold at most 19 digits, which cannot overflow a u64.
    if body.is_empty() || body.len() > 19 {
        return None;
    }
    let (mut mantissa, mut digits, mut point) = (0u64, 0usize, None);
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if digits == 0 || mantissa > 1 << 53 {
        return None;
    }
    let scale = point.map_or(0, |p| body.len() - p - 1);
    let v = mantissa as f64 / POW10[scale];
    Some(if negative { -v } else { v })
}

/// Replaces any NaN with upstream's canonical NaN, so an exposed NaN never looks stale.
pub(super) fn normal_nan(v: f64) -> f64 {
    if v.is_nan() {
        f64::from_bits(super::NORMAL_NAN_BITS)
    } else {
        v
    }
}

/// A short string on the stack, so that normalising `le`/`quantile` values on the label
/// building path does not allocate.
pub(super) struct StackStr {
    buf: [u8; 48],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr {
            buf: [0; 48],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        // The longest output (17 digits, sign, point, exponent, ".0") is well under 48 bytes.
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn extend(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.push(b));
    }

    pub(super) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// Formats a float as upstream's `formatOpenMetricsFloat`: the canonical spelling of `le` and
/// `quantile` values (Prometheus 3 normalises them on ingestion, so `le="1"` and `le="1.0"` are
/// one series). That is Go's `strconv.FormatFloat(f, 'g', -1, 64)` (shortest round-trip
/// digits, exponent form when the decimal exponent is below -4 or at least 6) plus `.0` when
/// the result looks like an integer.
pub(super) fn format_openmetrics_float(f: f64) -> StackStr {
    let mut out = StackStr::new();
    if f.is_nan() {
        out.extend(b"NaN");
        return out;
    }
    if f.is_infinite() {
        out.extend(if f > 0.0 { b"+Inf" } else { b"-Inf" });
        return out;
    }
    if f == 0.0 {
        out.extend(b"0.0");
        return out;
    }
    let (digits, exp) = shortest_digits(f);
    let digits = &digits.buf[..digits.len];
    if f < 0.0 {
        out.push(b'-');
    }
    if !(-4..6).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e >= 100 {
            out.push(b'0' + (e / 100) as u8);
        }
        out.push(b'0' + (e / 10 % 10) as u8);
        out.push(b'0' + (e % 10) as u8);
        return out;
    }
    if exp < 0 {
        out.extend(b"0.");
        (0..-exp - 1).for_each(|_| out.push(b'0'));
        out.extend(digits);
        return out;
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        out.extend(digits);
        (digits.len()..int_len).for_each(|_| out.push(b'0'));
        out.extend(b".0");
    } else {
        out.extend(&digits[..int_len]);
        out.push(b'.');
        out.extend(&digits[int_len..]);
    }
    out
}

/// The shortest round-trip decimal digits of a finite non-zero `f` (no leading or trailing
/// zeros) and the decimal exponent of the first digit, read off ryu's output.
fn shortest_digits(f: f64) -> (StackStr, i32) {
    let mut ryu = ryu::Buffer::new();
    let text = ryu.format_finite(f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = StackStr::new();
    let mut leading = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        if digits.len == 0 && b == b'0' {
            leading += 1;
        } else {
            digits.push(b);
        }
    }
    while digits.len > 1 && digits.buf[digits.len - 1] == b'0' {
        digits.len -= 1;
    }
    (digits, int_part.len() as i32 - leading + exp - 1)
}

/// The suffixes a sample name may carry within a family of type `t` (OpenMetrics naming,
/// which also covers the Prometheus text format's histograms and summaries).
pub(super) fn family_suffixes(t: MetricType) -> &'static [&'static str] {
    match t {
        MetricType::Counter => &["_total", "_created", ""],
        MetricType::Summary => &["", "_sum", "_count", "_created"],
        MetricType::Histogram => &["_bucket", "_sum", "_count", "_created"],
        MetricType::GaugeHistogram => &["_bucket", "_gsum", "_gcount"],
        MetricType::Info => &["_info"],
        MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
    }
}

/// Whether sample `name` belongs to family `family` of type `t`.
pub(super) fn family_contains(family: &[u8], t: MetricType, name: &[u8]) -> bool {
    name.strip_prefix(family)
        .is_some_and(|rest| family_suffixes(t).iter().any(|s| rest == s.as_bytes()))
}

/// The type of the current sample: its family's type when the sample's name belongs to the
/// family (the family name plus one of the type's suffixes), otherwise unknown.
pub(super) fn sample_type(
    buf: &[u8],
    family: Span,
    family_type: MetricType,
    name: Span,
) -> MetricType {
    if family_contains(&buf[family.0..family.1], family_type, &buf[name.0..name.1]) {
        family_type
    } else {
        MetricType::Unknown
    }
}

/// Fills `builder` with the labels of a sample, normalising `le`/`quantile` values as
/// Prometheus 3 does for classic histograms and summaries.
pub(super) fn fill_labels(
    buf: &[u8],
    name: Span,
    labels: &[LabelSpan],
    family_type: MetricType,
    builder: &mut ScratchBuilder,
) {
    builder.reset();
    builder.push(
        METRIC_NAME_LABEL,
        &unescape(&text(&buf[name.0..name.1]), true),
    );
    for l in labels {
        let lname = text(&buf[l.name.0..l.name.1]);
        let lname = unescape(&lname, true);
        let raw = text(&buf[l.value.0..l.value.1]);
        let value = unescape(&raw, true);
        let normalise = matches!(
            (family_type, lname.as_ref()),
            (MetricType::Summary, QUANTILE_LABEL)
                | (
                    MetricType::Histogram | MetricType::GaugeHistogram,
                    BUCKET_LABEL
                )
        );
        match parse_float(value.as_bytes()) {
            Ok(f) if normalise => builder.push(&lname, format_openmetrics_float(f).as_str()),
            _ => builder.push(&lname, &value),
        }
    }
    builder.sort();
}

/// The 1-based line number of byte `pos`; computed only when an error is reported.
pub(super) fn line_of(buf: &[u8], pos: usize) -> usize {
    memchr::memchr_iter(b'\n', &buf[..pos.min(buf.len())]).count() + 1
}

/// The token starting at `pos`, for "got …" in error messages.
fn token_at(buf: &[u8], pos: usize) -> String {
    match buf.get(pos) {
        None => "EOF".into(),
        Some(b'\n') => "\n".into(),
        Some(_) => {
            let end = scan_while(buf, pos, |b| !b" \t\n{}=,\"".contains(&b)).max(pos + 1);
            String::from_utf8_lossy(&buf[pos..end]).into_owned()
        }
    }
}

/// An "expected X, got Y while parsing: Z" error for the entry that started at `start`.
pub(super) fn unexpected(
    buf: &[u8],
    start: usize,
    pos: usize,
    expected: &'static str,
) -> ParseError {
    let end = (pos + 1).min(buf.len());
    ParseError {
        line: line_of(buf, pos),
        kind: ParseErrorKind::Unexpected {
            expected,
            found: token_at(buf, pos),
            context: String::from_utf8_lossy(&buf[start.min(end)..end]).into_owned(),
        },
    }
}

/// A [`ParseError`] at byte `pos`.
pub(super) fn error_at(buf: &[u8], pos: usize, kind: ParseErrorKind) -> ParseError {
    ParseError {
        line: line_of(buf, pos),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_character_classes() {
        for b in 0..=255u8 {
            let digit = b.is_ascii_digit();
            assert_eq!(is_metric_char(b), is_metric_start(b) || digit, "{b}");
            assert_eq!(is_label_char(b), is_label_start(b) || digit, "{b}");
        }
    }

    #[test]
    fn floats_follow_go_syntax() {
        for (s, v) in [
            ("1", 1.0),
            ("-1.5e3", -1500.0),
            (".5", 0.5),
            ("1.", 1.0),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
            ("0001", 1.0),
        ] {
            assert_eq!(parse_float(s.as_bytes()), Ok(v), "{s}");
        }
        assert!(parse_float(b"NaN").unwrap().is_nan());
        for bad in [
            "0x1p-3", "1_000", "0x10", "", "1e400", "+NaN", "1 ", "abc", "0b1",
        ] {
            assert!(parse_float(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_decimals_parse_as_the_general_parser_does() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1.",
            ".5",
            "-.5",
            "0001",
            "123.45",
            "-123.45",
            "9007199254740992",
            "9007199254740993",
            "0.1",
            "0.3",
            "2.675",
            "1.0000000000000002",
            "123456789012345678",
            "1234567890123456789",
            "0.000000000000000001",
            "3.14159265358979",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 17 + 1) as usize;
            let text = format!("{:017}", x % 100_000_000_000_000_000);
            let text = &text[17 - digits..];
            let point = (x >> 40) as usize % (digits + 1);
            let sign = if x >> 63 == 1 { "-" } else { "" };
            cases.push(format!("{sign}{}.{}", &text[..point], &text[point..]));
        }
        for s in &cases {
            let general: f64 = s.parse().unwrap();
            let fast = parse_float(s.as_bytes()).unwrap();
            assert_eq!(fast.to_bits(), general.to_bits(), "{s}");
        }
        // Not plain decimals: left to the general parser, or rejected.
        for s in [".", "-", "", "1.2.3", "+1", "1e3", "--1", "1-"] {
            assert!(parse_plain_decimal(s.as_bytes()).is_none(), "{s}");
        }
    }

    #[test]
    fn openmetrics_float_format_matches_go() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-1.0, "-1.0"),
            (5.0, "5.0"),
            (0.25, "0.25"),
            (100000.0, "100000.0"),
            (1e6, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (-2.5e-300, "-2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1e21, "1e+21"),
            (123.456, "123.456"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.1e-3, "0.0011"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(format_openmetrics_float(f).as_str(), s, "{f}");
        }
    }

    #[test]
    fn unescaping_keeps_unknown_escapes() {
        assert_eq!(unescape(r#"a\\b\"c\nd\z"#, true), "a\\b\"c\nd\\z");
        assert_eq!(unescape(r#"\""#, false), "\\\"");
        assert!(matches!(unescape("plain", true), Cow::Borrowed(_)));
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(scan_quoted(br#""a\"b" x"#, 0, false), Some(6));
        let long = format!("\"{}\\\"{}\" x", "a".repeat(40), "b".repeat(40));
        assert_eq!(scan_quoted(long.as_bytes(), 0, false), Some(long.len() - 2));
        let long_newline = format!("\"{}\n\"", "a".repeat(40));
        assert_eq!(scan_quoted(long_newline.as_bytes(), 0, false), None);
        assert_eq!(scan_quoted(b"\"a\nb\"", 0, false), None);
        assert_eq!(scan_quoted(b"\"a\nb\"", 0, true), Some(5));
        assert_eq!(scan_quoted(b"\"abc", 0, true), None);
        assert_eq!(scan_quoted(b"\"a\\", 0, true), None);
    }
}
