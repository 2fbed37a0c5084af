//! Float formatting that matches Go's `strconv.FormatFloat(v, 'g' | 'f', -1, 64)` byte for byte.
//!
//! Every Prometheus wire format and JSON API renders floats with Go's shortest round-trip
//! representation, and clients compare those strings (e.g. the `le="0.005"` bucket label), so
//! "close enough" is not enough. The shortest digits come from `ryu` (the same digits Go's
//! algorithm picks); only the layout — when to switch to exponent form, how many exponent digits —
//! is Go's and lives here.

/// The shortest decimal digits of a finite, non-zero magnitude: `0.d1d2…dn × 10^dp`.
struct Decimal {
    digits: [u8; 17],
    len: usize,
    dp: i32,
}

impl Decimal {
    fn of(v: f64) -> Decimal {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v.abs());
        let (mantissa, exp) = match s.split_once('e') {
            Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
            None => (s, 0),
        };
        let mut d = Decimal {
            digits: [0; 17],
            len: 0,
            dp: 0,
        };
        let mut int_digits = 0i32;
        let mut seen_point = false;
        let mut leading = true;
        for b in mantissa.bytes() {
            if b == b'.' {
                seen_point = true;
                continue;
            }
            if !seen_point {
                int_digits += 1;
            }
            if leading && b == b'0' {
                // A leading zero shifts the decimal point left by one place.
                int_digits -= 1;
                continue;
            }
            leading = false;
            if d.len < d.digits.len() {
                d.digits[d.len] = b;
                d.len += 1;
            }
        }
        while d.len > 0 && d.digits[d.len - 1] == b'0' {
            d.len -= 1;
        }
        d.dp = int_digits + exp;
        d
    }

    fn digit(&self, i: i32) -> u8 {
        if i >= 0 && (i as usize) < self.len {
            self.digits[i as usize]
        } else {
            b'0'
        }
    }

    /// `%f` layout with `frac` digits after the point.
    fn push_fixed(&self, out: &mut String, frac: i32) {
        if self.dp > 0 {
            for i in 0..self.dp {
                out.push(self.digit(i) as char);
            }
        } else {
            out.push('0');
        }
        if frac > 0 {
            out.push('.');
            for i in 0..frac {
                out.push(self.digit(self.dp + i) as char);
            }
        }
    }

    /// `%e` layout with all significant digits: `d.ddde±XX`.
    fn push_exponent(&self, out: &mut String) {
        out.push(self.digits[0] as char);
        if self.len > 1 {
            out.push('.');
            for &b in &self.digits[1..self.len] {
                out.push(b as char);
            }
        }
        let exp = self.dp - 1;
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let exp = exp.unsigned_abs();
        if exp < 10 {
            out.push('0');
        }
        out.push_str(itoa::Buffer::new().format(exp));
    }
}

/// Handles the cases Go formats the same in every layout; `false` when `v` needs digits.
fn push_special(out: &mut String, v: f64) -> bool {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
    } else {
        return false;
    }
    true
}

/// Appends `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)`: shortest digits, exponent form
/// when the decimal exponent is below -4 or at least 6 (Go's rule for the shortest precision),
/// e.g. `1e+06`, `1e-05`, `123456`.
pub fn push_g(out: &mut String, v: f64) {
    if push_special(out, v) {
        return;
    }
    if v < 0.0 {
        out.push('-');
    }
    let d = Decimal::of(v);
    let exp = d.dp - 1;
    if !(-4..6).contains(&exp) {
        d.push_exponent(out);
    } else {
        d.push_fixed(out, (d.len as i32 - d.dp).max(0));
    }
}

/// Appends `v` as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest digits, never an exponent.
pub fn push_f(out: &mut String, v: f64) {
    if push_special(out, v) {
        return;
    }
    if v < 0.0 {
        out.push('-');
    }
    let d = Decimal::of(v);
    d.push_fixed(out, (d.len as i32 - d.dp).max(0));
}

/// `strconv.FormatFloat(v, 'g', -1, 64)` as a new string.
pub fn format_g(v: f64) -> String {
    let mut s = String::with_capacity(24);
    push_g(&mut s, v);
    s
}

/// `strconv.FormatFloat(v, 'f', -1, 64)` as a new string.
pub fn format_f(v: f64) -> String {
    let mut s = String::with_capacity(24);
    push_f(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_matches_go() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.5, "0.5"),
            (0.005, "0.005"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000012345, "1.2345e-05"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-7, "-2.5e-07"),
            (100.0, "100"),
            (1e21, "1e+21"),
            (12.75, "12.75"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1.0e15, "1e+15"),
            (123.456e10, "1.23456e+12"),
            (999999.0, "999999"),
            (1.7763568394002505e-15, "1.7763568394002505e-15"),
        ];
        for &(v, want) in cases {
            assert_eq!(format_g(v), want, "{v:?}");
        }
    }

    #[test]
    fn f_matches_go() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (1.0, "1"),
            (1e6, "1000000"),
            (1e21, "1000000000000000000000"),
            (0.00001, "0.00001"),
            (1.5, "1.5"),
            (-123.25, "-123.25"),
            (1234567.891, "1234567.891"),
            (5e-324, &format!("0.{}5", "0".repeat(323))),
            (f64::INFINITY, "+Inf"),
        ];
        for &(v, want) in cases {
            assert_eq!(format_f(v), want, "{v:?}");
        }
    }

    #[test]
    fn g_round_trips() {
        let mut x = 1.0f64;
        for _ in 0..2000 {
            x = x * 1.37 + 0.013;
            if !x.is_finite() {
                break;
            }
            for v in [x, 1.0 / x, -x] {
                let s = format_g(v);
                assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
            }
        }
    }
}
