//! The element-wise float functions (`abs`, `ln`, `round`, `clamp`, the trigonometric family,
//! …). Each maps one float to one float with Go's `math` package semantics; histogram samples
//! are skipped by the caller (upstream drops them silently).

/// A float-to-float PromQL function of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFunction {
    Abs,
    Ceil,
    Floor,
    Exp,
    Sqrt,
    Ln,
    Log2,
    Log10,
    Sgn,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Rad,
    Deg,
}

impl MathFunction {
    /// The function called `name` in PromQL.
    pub fn from_name(name: &str) -> Option<MathFunction> {
        use MathFunction::*;
        Some(match name {
            "abs" => Abs,
            "ceil" => Ceil,
            "floor" => Floor,
            "exp" => Exp,
            "sqrt" => Sqrt,
            "ln" => Ln,
            "log2" => Log2,
            "log10" => Log10,
            "sgn" => Sgn,
            "sin" => Sin,
            "cos" => Cos,
            "tan" => Tan,
            "asin" => Asin,
            "acos" => Acos,
            "atan" => Atan,
            "sinh" => Sinh,
            "cosh" => Cosh,
            "tanh" => Tanh,
            "asinh" => Asinh,
            "acosh" => Acosh,
            "atanh" => Atanh,
            "rad" => Rad,
            "deg" => Deg,
            _ => return None,
        })
    }

    /// The function applied to `v`. Rust's `f64` methods agree with Go's `math` on every
    /// special value these functions define (NaN in, NaN out; `ln(0) = -Inf`; `ln(-1) =
    /// NaN`; `sqrt(-0) = -0`).
    pub fn apply(self, v: f64) -> f64 {
        use MathFunction::*;
        match self {
            Abs => v.abs(),
            Ceil => v.ceil(),
            Floor => v.floor(),
            Exp => v.exp(),
            Sqrt => v.sqrt(),
            Ln => v.ln(),
            Log2 => v.log2(),
            Log10 => v.log10(),
            Sgn => sgn(v),
            Sin => v.sin(),
            Cos => v.cos(),
            Tan => v.tan(),
            Asin => v.asin(),
            Acos => v.acos(),
            Atan => v.atan(),
            Sinh => v.sinh(),
            Cosh => v.cosh(),
            Tanh => v.tanh(),
            Asinh => v.asinh(),
            Acosh => v.acosh(),
            Atanh => v.atanh(),
            Rad => v * std::f64::consts::PI / 180.0,
            Deg => v * 180.0 / std::f64::consts::PI,
        }
    }
}

/// -1, 1, or the value itself for zeros (keeping the sign of -0) and NaN.
pub fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

/// `round(v, to_nearest)`: ties go up, and the multiple is applied through its inverse,
/// which upstream found to cause fewer precision surprises (`round(x, 0.1)`).
pub fn round(v: f64, to_nearest: f64) -> f64 {
    let inverse = 1.0 / to_nearest;
    (v * inverse + 0.5).floor() / inverse
}

/// `clamp(v, min, max)` for one sample, or `None` when `max < min` (upstream then returns
/// an empty vector). A NaN bound yields NaN, as Go's `math.Max`/`math.Min` do.
pub fn clamp(v: f64, min: f64, max: f64) -> Option<f64> {
    if max < min {
        return None;
    }
    Some(go_max(min, go_min(max, v)))
}

/// Go's `math.Max`: NaN if either is NaN, +Inf wins over NaN, `max(-0, +0) = +0`.
pub fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b { a } else { b }
}

/// Go's `math.Min`: NaN if either is NaN, -Inf wins over NaN, `min(-0, +0) = -0`.
pub fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
    }

    #[test]
    fn special_values() {
        use MathFunction::*;
        let cases = [
            (Ln, 0.0, f64::NEG_INFINITY),
            (Ln, -1.0, f64::NAN),
            (Log2, 8.0, 3.0),
            (Log10, 1000.0, 3.0),
            (Sqrt, -0.0, -0.0),
            (Sqrt, -1.0, f64::NAN),
            (Exp, f64::NEG_INFINITY, 0.0),
            (Abs, -0.0, 0.0),
            (Ceil, -0.5, -0.0),
            (Floor, f64::NAN, f64::NAN),
            (Sgn, -0.0, -0.0),
            (Sgn, -3.0, -1.0),
            (Sgn, f64::INFINITY, 1.0),
            (Sgn, f64::NAN, f64::NAN),
            (Acosh, 0.5, f64::NAN),
            (Atanh, 1.0, f64::INFINITY),
            (Deg, std::f64::consts::PI, 180.0),
            (Rad, 180.0, std::f64::consts::PI),
        ];
        for (f, v, want) in cases {
            assert!(same(f.apply(v), want), "{f:?}({v}) = {}", f.apply(v));
        }
    }

    #[test]
    fn names_map_to_functions() {
        assert_eq!(MathFunction::from_name("log10"), Some(MathFunction::Log10));
        assert_eq!(MathFunction::from_name("atanh"), Some(MathFunction::Atanh));
        assert_eq!(MathFunction::from_name("rate"), None);
    }

    #[test]
    fn round_ties_up_and_to_multiples() {
        assert_eq!(round(2.5, 1.0), 3.0);
        assert_eq!(round(-2.5, 1.0), -2.0);
        assert_eq!(round(1.23456, 0.01), 1.23);
        assert_eq!(round(17.0, 5.0), 15.0);
        assert_eq!(round(17.5, 5.0), 20.0);
        assert!(round(f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn clamp_bounds_and_nan() {
        assert_eq!(clamp(5.0, 0.0, 3.0), Some(3.0));
        assert_eq!(clamp(-5.0, 0.0, 3.0), Some(0.0));
        assert_eq!(clamp(2.0, 3.0, 0.0), None);
        assert!(clamp(1.0, 0.0, f64::NAN).unwrap().is_nan());
        assert!(clamp(1.0, f64::NAN, 0.0).unwrap().is_nan());
        assert!(clamp(f64::NAN, 0.0, 1.0).unwrap().is_nan());
        assert_eq!(clamp(7.0, f64::NEG_INFINITY, 5.0), Some(5.0));
    }

    #[test]
    fn go_min_max() {
        assert!(go_max(f64::NAN, 3.0).is_nan());
        assert!(go_min(3.0, f64::NAN).is_nan());
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert!(same(go_max(-0.0, 0.0), 0.0));
        assert!(same(go_min(0.0, -0.0), -0.0));
    }
}
