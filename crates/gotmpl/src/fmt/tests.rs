use super::*;

fn f(x: f64) -> Value {
    Value::Float(x)
}

#[test]
fn floats_print_like_go() {
    let cases = [
        (1e6, "1e+06"),
        (0.1, "0.1"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (2.5, "2.5"),
        (0.0, "0"),
        (-3.0, "-3"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
        (1.0 / 3.0, "0.3333333333333333"),
    ];
    for (x, want) in cases {
        assert_eq!(to_v(&f(x)), want, "{x}");
    }
}

#[test]
fn printf_verbs() {
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "%s|%d|%v",
            vec!["a".into(), 3.into(), true.into()],
            "a|3|true",
        ),
        (
            "%5d|%-5d|%05d",
            vec![42.into(), 42.into(), (-42).into()],
            "   42|42   |-0042",
        ),
        (
            "%x %X %#x %o %b",
            vec![255.into(), 255.into(), 255.into(), 8.into(), 5.into()],
            "ff FF 0xff 10 101",
        ),
        (
            "%.2f %8.3f %e %E",
            vec![f(1.23456), f(2.5), f(123456.0), f(0.5)],
            "1.23    2.500 1.234560e+05 5.000000E-01",
        ),
        (
            "%g %g %.3g %.3g",
            vec![f(1e21), f(1e-7), f(100.0), f(1234.0)],
            "1e+21 1e-07 100 1.23e+03",
        ),
        (
            "%q %q",
            vec!["a\"b\n".into(), 120.into()],
            "\"a\\\"b\\n\" 'x'",
        ),
        (
            "%c%c %t %%",
            vec![72.into(), 105.into(), false.into()],
            "Hi false %",
        ),
        ("%x %X", vec!["hi".into(), "hi".into()], "6869 6869"),
        (
            "%+d % d %+.1f",
            vec![5.into(), 5.into(), f(2.0)],
            "+5  5 +2.0",
        ),
        (
            "%10s|%-4s|%.2s",
            vec!["abc".into(), "ab".into(), "héllo".into()],
            "       abc|ab  |hé",
        ),
        (
            "%v %v",
            vec![
                Value::list([1.into(), "a".into()]),
                Value::map([("k", f(1.5))]),
            ],
            "[1 a] map[k:1.5]",
        ),
        ("%d", vec!["x".into()], "%!d(string=x)"),
        ("%s", vec![3.into()], "%!s(int=3)"),
        ("%d %d", vec![1.into()], "1 %!d(MISSING)"),
        ("%d", vec![1.into(), "x".into()], "1%!(EXTRA string=x)"),
        ("%s", vec![Value::Nil], "%!s(<nil>)"),
        ("%v", vec![Value::Nil], "<nil>"),
        ("%f", vec![3.into()], "%!f(int=3)"),
        ("%*d", vec![4.into(), 7.into()], "   7"),
        ("%", vec![], "%!(NOVERB)"),
        (
            "%T %T %T %T",
            vec![1.into(), f(1.0), "s".into(), Value::list([])],
            "int float64 string []interface {}",
        ),
    ];
    for (format, args, want) in cases {
        assert_eq!(sprintf(format, &args), want, "{format}");
    }
}

#[test]
fn sprint_spaces_only_between_non_strings() {
    assert_eq!(sprint(&["a".into(), "b".into()]), "ab");
    assert_eq!(sprint(&[1.into(), 2.into()]), "1 2");
    assert_eq!(
        sprint(&["a".into(), 1.into(), 2.into(), "b".into()]),
        "a1 2b"
    );
    assert_eq!(sprintln(&["a".into(), "b".into()]), "a b\n");
}

#[test]
fn quote_escapes_like_strconv() {
    assert_eq!(quote("a\tb\x01é\u{a0}"), "\"a\\tb\\x01é\\u00a0\"");
}
