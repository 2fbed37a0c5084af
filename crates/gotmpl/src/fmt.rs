//! Go's `fmt` formatting of [`Value`]s: `%v` printing, `Sprint`, `Sprintln` and `Sprintf`.
//!
//! Template output is only compatible if numbers print exactly as Go prints them (`1e+06`,
//! `0.1`, `+Inf`), so floats are rendered from Rust's correctly rounded digits into Go's
//! layout rather than with Rust's own `Display`.

use std::fmt::Write;

use crate::value::Value;

/// Formats like Go's `fmt.Sprint`: operands are separated by a space when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !is_string(arg) && !is_string(&args[i - 1]) {
            out.push(' ');
        }
        write_v(&mut out, arg);
    }
    out
}

/// Formats like Go's `fmt.Sprintln`: operands always separated by spaces, newline appended.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, arg);
    }
    out.push('\n');
    out
}

fn is_string(v: &Value) -> bool {
    matches!(v.resolved(), Value::String(_) | Value::Html(_))
}

/// Appends the `%v` form of a value.
pub fn write_v(out: &mut String, v: &Value) {
    format_value(out, v, &Spec::verb('v'));
}

/// The `%v` form of a value.
pub fn to_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

/// One parsed `%` directive.
#[derive(Clone, Debug, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
    verb: char,
}

impl Spec {
    fn verb(verb: char) -> Self {
        Self {
            verb,
            ..Self::default()
        }
    }
}

/// Formats like Go's `fmt.Sprintf`, including Go's in-band error forms (`%!d(string=x)`,
/// `%!s(MISSING)`, `%!(EXTRA …)`).
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut next_arg = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = take_number(&mut chars, args, &mut next_arg);
        if chars.peek().is_some_and(|&(_, c)| c == '.') {
            chars.next();
            spec.prec = Some(take_number(&mut chars, args, &mut next_arg).unwrap_or(0));
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        spec.verb = verb;
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next_arg) {
            Some(arg) => {
                next_arg += 1;
                format_value(&mut out, arg, &spec);
            }
            None => {
                let _ = write!(out, "%!{verb}(MISSING)");
            }
        }
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, arg) in args[next_arg..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if let Value::Nil = arg {
                out.push_str("<nil>");
            } else {
                let _ = write!(out, "{}=", arg.type_name());
                write_v(&mut out, arg);
            }
        }
        out.push(')');
    }
    out
}

/// Reads a width or precision: digits, or `*` taking an int argument.
fn take_number(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    args: &[Value],
    next_arg: &mut usize,
) -> Option<usize> {
    if chars.peek().is_some_and(|&(_, c)| c == '*') {
        chars.next();
        let n = match args.get(*next_arg) {
            Some(Value::Int(n)) => usize::try_from(*n).ok(),
            _ => None,
        };
        *next_arg += 1;
        return n;
    }
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|&(_, c)| c.to_digit(10)) {
        chars.next();
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
    }
    n
}

fn format_value(out: &mut String, v: &Value, spec: &Spec) {
    if spec.verb == 'T' {
        return pad(out, &v.type_name(), spec);
    }
    match v {
        Value::Nil => match spec.verb {
            'v' => pad(out, "<nil>", spec),
            _ => bad_verb(out, v, spec),
        },
        Value::Bool(b) => match spec.verb {
            'v' | 't' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, v, spec),
        },
        Value::Int(i) => format_int(out, *i, v, spec),
        Value::Float(x) => format_float(out, *x, v, spec),
        Value::String(s) | Value::Html(s) => format_str(out, s, v, spec),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_value(out, item, spec);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_str(out, k, &Value::Nil, spec);
                out.push(':');
                format_value(out, item, spec);
            }
            out.push(']');
        }
        Value::Func(_) => pad(out, "<func>", spec),
        Value::Object(o) => {
            if let (Some(s), 'v' | 's' | 'q') = (o.display(), spec.verb) {
                return format_str(out, &s, v, spec);
            }
            match o.base() {
                Some(base) => format_value(out, &base, spec),
                None => pad(out, &format!("{{{}}}", o.type_name()), spec),
            }
        }
    }
}

/// Go's `%!verb(type=value)` for an operand the verb does not apply to.
fn bad_verb(out: &mut String, v: &Value, spec: &Spec) {
    let _ = write!(out, "%!{}(", spec.verb);
    if let Value::Nil = v {
        out.push_str("<nil>");
    } else {
        let _ = write!(out, "{}=", v.type_name());
        write_v(out, v);
    }
    out.push(')');
}

/// Pads to the width with spaces (or zeros for numbers when asked), counting runes as Go does.
fn pad(out: &mut String, s: &str, spec: &Spec) {
    let len = s.chars().count();
    let fill = spec.width.unwrap_or(0).saturating_sub(len);
    if fill == 0 {
        out.push_str(s);
    } else if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

/// Pads a number, putting zero padding between the sign and the digits.
fn pad_number(out: &mut String, sign: &str, digits: &str, spec: &Spec) {
    if spec.zero && !spec.minus && spec.width.is_some() {
        let width = spec.width.unwrap_or(0);
        let fill = width.saturating_sub(sign.len() + digits.chars().count());
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(digits);
    } else {
        pad(out, &format!("{sign}{digits}"), spec);
    }
}

fn sign_of(negative: bool, spec: &Spec) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_int(out: &mut String, i: i64, v: &Value, spec: &Spec) {
    let mag = i.unsigned_abs();
    let digits = match spec.verb {
        'v' | 'd' => mag.to_string(),
        'b' => format!("{mag:b}"),
        'o' => format!("{}{mag:o}", if spec.sharp { "0" } else { "" }),
        'O' => format!("0o{mag:o}"),
        'x' => format!("{}{mag:x}", if spec.sharp { "0x" } else { "" }),
        'X' => format!("{}{mag:X}", if spec.sharp { "0X" } else { "" }),
        'c' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return pad(out, c.encode_utf8(&mut [0; 4]), spec);
        }
        'q' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            return pad(out, &quote_rune(c), spec);
        }
        'U' => return pad(out, &format!("U+{mag:04X}"), spec),
        _ => return bad_verb(out, v, spec),
    };
    let digits = match spec.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    pad_number(out, sign_of(i < 0, spec), &digits, spec);
}

fn format_str(out: &mut String, s: &str, v: &Value, spec: &Spec) {
    match spec.verb {
        'v' | 's' => match spec.prec {
            Some(p) => pad(out, &s.chars().take(p).collect::<String>(), spec),
            None => pad(out, s, spec),
        },
        'q' => pad(out, &quote(s), spec),
        'x' | 'X' => {
            let mut hex = String::with_capacity(s.len() * 2);
            for b in s.bytes() {
                let _ = if spec.verb == 'x' {
                    write!(hex, "{b:02x}")
                } else {
                    write!(hex, "{b:02X}")
                };
            }
            pad(out, &hex, spec);
        }
        _ => bad_verb(out, v, spec),
    }
}

fn format_float(out: &mut String, x: f64, v: &Value, spec: &Spec) {
    let verb = spec.verb;
    if !matches!(verb, 'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G') {
        return bad_verb(out, v, spec);
    }
    if x.is_nan() {
        return pad(out, if spec.plus { "+NaN" } else { "NaN" }, spec);
    }
    if x.is_infinite() {
        let s = if x < 0.0 { "-Inf" } else { "+Inf" };
        return pad(out, s, spec);
    }
    let neg = x.is_sign_negative();
    let mag = x.abs();
    let body = match verb {
        'e' | 'E' => format_e(mag, spec.prec.unwrap_or(6)),
        'f' | 'F' => format!("{mag:.*}", spec.prec.unwrap_or(6)),
        _ => format_g(mag, spec.prec),
    };
    let body = if verb.is_ascii_uppercase() {
        body.to_ascii_uppercase()
    } else {
        body
    };
    pad_number(out, sign_of(neg, spec), &body, spec);
}

/// Significant decimal digits (no trailing zeros) and the decimal exponent of the first one.
fn decimal_digits(mag: f64, sig: Option<usize>) -> (String, i32) {
    let sci = match sig {
        Some(p) => format!("{mag:.*e}", p.max(1) - 1),
        None => format!("{mag:e}"),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, exp.parse().unwrap_or(0))
}

/// Go's `%e`: one leading digit, `prec` fraction digits, and an exponent of at least two digits.
fn format_e(mag: f64, prec: usize) -> String {
    let sci = format!("{mag:.prec$e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    exp_form(mantissa, exp)
}

fn exp_form(mantissa: &str, exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Go's `%g` (and `%v`): shortest digits unless a precision is given; exponent form when the
/// exponent is below -4 or at least the precision (6 for shortest).
fn format_g(mag: f64, prec: Option<usize>) -> String {
    let (digits, exp) = decimal_digits(mag, prec);
    let nd = digits.len();
    let dp = exp + 1;
    let eprec = match prec {
        None => 6,
        Some(p) => {
            let p = p.max(1);
            if p > nd && i32::try_from(nd).unwrap_or(i32::MAX) >= dp {
                nd
            } else {
                p
            }
        }
    };
    if exp < -4 || exp >= i32::try_from(eprec).unwrap_or(i32::MAX) {
        let mantissa = if nd > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        return exp_form(&mantissa, exp);
    }
    // Fixed form with exactly the significant digits.
    if dp <= 0 {
        let zeros = "0".repeat(dp.unsigned_abs() as usize);
        format!("0.{zeros}{digits}")
    } else {
        let dp = dp as usize;
        if nd <= dp {
            format!("{digits}{}", "0".repeat(dp - nd))
        } else {
            format!("{}.{}", &digits[..dp], &digits[dp..])
        }
    }
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`.
fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        ' ' => out.push(' '),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() || c.is_whitespace() || c == '\u{FEFF}' => {
            if (c as u32) < 0x10000 {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests;
