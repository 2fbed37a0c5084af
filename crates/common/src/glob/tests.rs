use super::*;

#[test]
fn match_like_go() {
    // (pattern, name, Go's answer; None = ErrBadPattern), cases as Go's filepath tests pose them.
    let cases: &[(&str, &str, Option<bool>)] = &[
        ("abc", "abc", Some(true)),
        ("*", "abc", Some(true)),
        ("*c", "abc", Some(true)),
        ("a*", "a", Some(true)),
        ("a*", "abc", Some(true)),
        ("a*", "ab/c", Some(false)),
        ("a*/b", "abc/b", Some(true)),
        ("a*/b", "a/c/b", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Some(false)),
        ("ab[c]", "abc", Some(true)),
        ("ab[b-d]", "abc", Some(true)),
        ("ab[e-g]", "abc", Some(false)),
        ("ab[^c]", "abc", Some(false)),
        ("ab[^b-d]", "abc", Some(false)),
        ("ab[^e-g]", "abc", Some(true)),
        ("a\\*b", "a*b", Some(true)),
        ("a\\*b", "ab", Some(false)),
        ("a?b", "a☺b", Some(true)),
        ("a[^a]b", "a☺b", Some(true)),
        ("a???b", "a☺b", Some(false)),
        ("a?b", "a/b", Some(false)),
        ("a*b", "a/b", Some(false)),
        ("[\\]a]", "]", Some(true)),
        ("[\\-]", "-", Some(true)),
        ("[x\\-]", "x", Some(true)),
        ("[x\\-]", "-", Some(true)),
        ("[x\\-]", "z", Some(false)),
        ("[\\-x]", "a", Some(false)),
        ("[]a]", "]", None),
        ("[-]", "-", None),
        ("[x-]", "x", None),
        ("[-x]", "x", None),
        ("\\", "a", None),
        ("[a-b-c]", "a", None),
        ("[", "a", None),
        ("[^", "a", None),
        ("[^bc", "a", None),
        ("a[", "a", None),
        ("a[", "ab", None),
        ("a[", "x", None),
        ("a/b[", "x", None),
        ("*x", "xxx", Some(true)),
    ];
    for &(pattern, name, want) in cases {
        assert_eq!(
            matches(pattern, name).ok(),
            want,
            "Match({pattern:?}, {name:?})"
        );
    }
}

#[test]
fn clean_like_go() {
    for (path, want) in [
        ("", "."),
        ("abc", "abc"),
        ("abc/def/", "abc/def"),
        ("./abc", "abc"),
        ("/../abc", "/abc"),
        ("abc//def//ghi", "abc/def/ghi"),
        ("abc/./../def", "def"),
        ("../../abc", "../../abc"),
        ("abc/../..", ".."),
        ("/", "/"),
        ("//abc", "/abc"),
    ] {
        assert_eq!(clean(path), want, "Clean({path:?})");
    }
}

#[test]
fn globs_in_any_path_element() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    for sub in ["a1", "a2", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for file in ["x.yml", "y.yaml"] {
            std::fs::write(dir.path().join(sub).join(file), "").unwrap();
        }
    }
    assert_eq!(
        glob(&format!("{root}/a*/*.yml")).unwrap(),
        [format!("{root}/a1/x.yml"), format!("{root}/a2/x.yml")]
    );
    assert_eq!(
        glob(&format!("{root}/b/*")).unwrap(),
        [format!("{root}/b/x.yml"), format!("{root}/b/y.yaml")]
    );
    // No metacharacters: the path itself when it exists.
    assert_eq!(
        glob(&format!("{root}/b/x.yml")).unwrap(),
        [format!("{root}/b/x.yml")]
    );
    assert!(glob(&format!("{root}/b/none")).unwrap().is_empty());
    // Joined paths are cleaned as Go's filepath.Join does.
    assert_eq!(
        glob(&format!("{root}/./b/../b/x*")).unwrap(),
        [format!("{root}/b/x.yml")]
    );
    assert_eq!(glob(&format!("{root}/[")), Err(BadPattern));
    assert!(glob(&format!("{root}/missing/*")).unwrap().is_empty());
}
