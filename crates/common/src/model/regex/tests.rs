use proptest::prelude::*;

use super::*;

fn go(p: &str) -> GoRegex {
    GoRegex::new(p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn anchored_with_dot_matching_newline() {
    let re = go("foo.*");
    assert!(re.is_match("foo\nbar"));
    assert!(!re.is_match("xfoo"));
    assert_eq!(re.as_str(), "foo.*");
    assert_eq!(re.to_string(), "foo.*");
    // The wrapping is textual, as upstream's: this is `^(?s:a)|(b)$`.
    let odd = go("a)|(b");
    assert!(odd.is_match("a") && odd.is_match("ab") && odd.is_match("xb"));
}

#[test]
fn perl_classes_are_ascii() {
    for (pattern, yes, no) in [
        (r"\d+", "0129", "٣"),
        (r"\w+", "aZ_9", "é"),
        (r"\s", "\u{0C}", "\u{A0}"),
        (r"\s", " ", "\u{0B}"),
        (r"[\d]+", "42", "٣"),
        (r"[^\d]", "x", "4"),
        (r"[\D]", "x", "4"),
        (r"[a\W]", "é", "b"),
        (r"\S", "é", " "),
        (r"x\b", "x", "xé"),
        (r"[[:alpha:]]+", "abZ", "é"),
        (r"[[:^digit:]]", "a", "1"),
    ] {
        let re = go(pattern);
        assert!(re.is_match(yes), "{pattern} should match {yes:?}");
        assert!(!re.is_match(no), "{pattern} should not match {no:?}");
    }
    // Unicode classes stay Unicode.
    assert!(go(r"\pL+").is_match("é"));
    assert!(go(r"\p{Greek}").is_match("λ"));
    assert!(go(r"[\p{Greek}x]+").is_match("λx"));
    assert!(go(r"\PL").is_match("1") && !go(r"\PL").is_match("a"));
    let not_boundary = go(r"a\Bb");
    assert!(not_boundary.is_match("ab"));
}

#[test]
fn go_only_syntax() {
    assert!(go(r"\Qa.b\E").is_match("a.b"));
    assert!(!go(r"\Qa.b\E").is_match("axb"));
    assert!(go(r"\Q*+").is_match("*+"));
    assert!(go(r"x{").is_match("x{"));
    assert!(go(r"x{a}").is_match("x{a}"));
    assert!(go(r"x{1,2").is_match("x{1,2"));
    assert!(go(r"[[a]").is_match("["));
    assert!(go(r"[]a]").is_match("]"));
    assert!(go(r"[a&&b]").is_match("&"));
    assert!(go(r"[a~~b]").is_match("~"));
    assert!(go(r"\<a\>").is_match("<a>"));
    assert!(go(r"a\#b").is_match("a#b"));
    assert!(go(r"\z").is_match(""));
    assert!(go(r"a|").is_match(""));
    assert!(go(r"(?i)K").is_match("\u{212A}"));
    assert!(go(r"(?U)a+").is_match("aaa"));
    assert!(go(r"(?P<x>a)(?<y>b)").is_match("ab"));
    assert!(go(r"\101").is_match("A"));
    assert!(go(r"a{1000}").is_match(&"a".repeat(1000)));
    assert!(go(r"a{,3}").is_match("a{,3}"));
    assert!(go(r"a*?b??c{2}?").is_match("aacc"));
    assert!(go(r"(?:x{2}){3}").is_match("xxxxxx"));
    assert!(go(r"\p{^Greek}").is_match("a") && !go(r"\p{^Greek}").is_match("λ"));
    assert!(go(r"[\P{^Greek}]").is_match("λ"));
    assert!(go(r"\12").is_match("\n"));
    assert!(go(r"[\0]").is_match("\0"));
}

#[test]
fn syntax_go_rejects() {
    for p in [
        r"a{1001}",
        r"a{2,1001}",
        r"a{3,2}",
        r"\C",
        r"\e",
        r"(?x)a",
        r"(?u)a",
        r"[\b]",
        r"(",
        r"[a",
        r"a\",
        r"*",
        r"a**",
        r"a+*",
        r"a???",
        r"x*+",
        r"x{2}{3}",
        r"x{2}*",
        r"\1",
        r"[\7]",
        r"\8",
        r"\u0041",
        r"[\Qa\E]",
    ] {
        let err = GoRegex::new(p).expect_err(p);
        assert_eq!(err.pattern(), p);
        assert!(!err.to_string().contains('\n'), "{err}");
    }
    let err = GoRegex::new("xa+*").unwrap_err().to_string();
    assert!(
        err.ends_with("invalid nested repetition operator: `+*`"),
        "{err}"
    );
    let err = GoRegex::new("a{1001}").unwrap_err().to_string();
    assert!(err.ends_with("invalid repeat count: `{1001}`"), "{err}");
}

fn strategy(p: &str) -> &'static str {
    FastRegexMatcher::new(p).unwrap().strategy_name()
}

#[test]
fn strategies_chosen() {
    for (p, want) in [
        ("foo", "Equal"),
        ("^foo$", "Equal"),
        ("(foo)", "Equal"),
        ("", "Equal"),
        ("a|b|c", "SmallSet"),
        ("foo|bar", "SmallSet"),
        ("(?i)ab", "EqualFold"),
        ("(?i)a-b", "EqualFold"),
        ("prod-[0-9]", "SmallSet"),
        (".*", "Any"),
        ("(.*)", "Any"),
        (".+", "NonEmpty"),
        ("foo.*", "Prefix"),
        ("foo.+", "Prefix"),
        (".*foo", "Suffix"),
        (".+foo", "Suffix"),
        (".*foo.*", "Contains"),
        ("(.*)foo(.*)", "Contains"),
        ("(?i)foo", "EqualFold"),
        (".*foo.*bar.+", "Glob"),
        ("(?i)foo.*", "Glob"),
        ("foo.+bar", "Glob"),
        ("foo.*|.*bar", "AnyOf"),
        ("foo[0-9]+", "Regex"),
        ("(?-s:.*)", "Regex"),
    ] {
        assert_eq!(strategy(p), want, "{p}");
    }
    let many: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
    assert_eq!(strategy(&many.join("|")), "HashedSet");
}

#[test]
fn set_matches() {
    let m = FastRegexMatcher::new("foo|bar|baz").unwrap();
    assert_eq!(
        m.set_matches(),
        Some(&["bar".to_owned(), "baz".into(), "foo".into()][..])
    );
    let m = FastRegexMatcher::new("a(b|c)").unwrap();
    assert_eq!(m.set_matches(), Some(&["ab".to_owned(), "ac".into()][..]));
    assert_eq!(
        FastRegexMatcher::new("foo").unwrap().set_matches(),
        Some(&["foo".to_owned()][..])
    );
    assert_eq!(FastRegexMatcher::new("foo.*").unwrap().set_matches(), None);
    assert_eq!(FastRegexMatcher::new("^a$|b").unwrap().set_matches(), None);
    let many: Vec<String> = (0..300).map(|i| format!("v{i}")).collect();
    assert_eq!(
        FastRegexMatcher::new(&many.join("|"))
            .unwrap()
            .set_matches(),
        None
    );
    let m = FastRegexMatcher::new(&many[..40].join("|")).unwrap();
    assert_eq!(m.set_matches().map(<[String]>::len), Some(40));
    assert!(m.is_match("v39") && !m.is_match("v40") && !m.is_match("v"));
}

#[test]
fn shortcuts_agree_with_the_regex_on_edge_cases() {
    let cases: &[(&str, &[&str])] = &[
        ("foo.*", &["foo", "foobar", "fo", "xfoo", "foo\n"]),
        ("foo.+", &["foo", "fooé", "foo\n", "fo"]),
        (".+foo", &["foo", "éfoo", "xfoox"]),
        (".*foo.*", &["foo", "xfoox", "fo", "f\noo", "\nfoo\n"]),
        ("(?i)abc", &["ABC", "abC", "ab", "ÀBC"]),
        (".*foo", &["foo", "xfoo", "foox", "fo"]),
        (".+foo", &["foo", "xfoo", "éfoo"]),
        ("a.+a", &["aa", "aaa", "aéa"]),
        ("a.+.+a", &["aaa", "aaaa", "aéa", "aééa"]),
        (".*a.*a.*", &["a", "aa", "bab", "baab"]),
        ("ab.*ab", &["ab", "abab", "abxab", "aba"]),
        ("(?i)foo", &["FOO", "fOo", "foo", "fo", "fooo"]),
        ("(?i)ks", &["KS", "\u{212A}s", "k\u{17F}", "kx"]),
        ("(?i)a-b.*", &["A-B", "a-bxx", "a_b"]),
        ("foo.*|.*bar", &["foo1", "1bar", "1", "foobar"]),
        ("(?i)x.*|y", &["X", "y", "Y", "\u{212A}"]),
        ("", &["", "a"]),
    ];
    for (p, inputs) in cases {
        let fast = FastRegexMatcher::new(p).unwrap();
        let plain = go(p);
        for s in *inputs {
            assert_eq!(fast.is_match(s), plain.is_match(s), "{p} on {s:?}");
        }
    }
}

/// Patterns from a small grammar rich in the shapes the shortcuts handle.
fn pattern() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("ab".to_owned()),
        Just("-".to_owned()),
        Just(r"\.".to_owned()),
        Just(".*".to_owned()),
        Just(".+".to_owned()),
        Just(".?".to_owned()),
        Just(".".to_owned()),
        Just("[ab]".to_owned()),
        Just(r"\d".to_owned()),
        Just("k".to_owned()),
        Just("s".to_owned()),
        Just("é".to_owned()),
        Just("^".to_owned()),
        Just("$".to_owned()),
        Just("(?-s:.*)".to_owned()),
    ];
    let concat = prop::collection::vec(atom, 0..5).prop_map(|v| v.concat());
    let group = prop_oneof![
        concat.clone(),
        concat.clone().prop_map(|c| format!("({c})")),
        concat.clone().prop_map(|c| format!("(?i){c}")),
        concat.clone().prop_map(|c| format!("(?i:{c})")),
    ];
    let seq = prop::collection::vec(group, 1..3).prop_map(|v| v.concat());
    prop::collection::vec(seq, 1..4).prop_map(|v| v.join("|"))
}

fn input() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "b", "A", "B", "ab", "-", ".", "\n", "1", "é", "K", "\u{212A}", "\u{17F}", "S",
        ]),
        0..7,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn fast_matcher_equals_anchored_regex(p in pattern(), inputs in prop::collection::vec(input(), 8)) {
        let fast = FastRegexMatcher::new(&p).unwrap();
        let plain = go(&p);
        for s in &inputs {
            prop_assert_eq!(fast.is_match(s), plain.is_match(s), "pattern {:?} input {:?}", p, s);
        }
        if let Some(set) = fast.set_matches() {
            for v in set {
                prop_assert!(plain.is_match(v), "set value {:?} of {:?}", v, p);
            }
            for s in &inputs {
                prop_assert_eq!(set.contains(s), plain.is_match(s), "set of {:?} on {:?}", p, s);
            }
        }
    }
}
