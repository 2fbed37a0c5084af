use super::*;

const PROTO: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily";

#[test]
fn negotiate_matches_upstream_cases() {
    let cases = [
        (
            format!("{PROTO};encoding=delimited"),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores",
        ),
        (
            "text/plain;version=0.0.4".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            format!("{PROTO};encoding=delimited; escaping=allow-utf-8;"),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8",
        ),
        (
            "text/plain;version=0.0.4;".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "text/plain;version=0.0.4; escaping=values;".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=values",
        ),
        (
            "".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "*/*".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "application/*".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "text/*".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "application/openmetrics-text;version=1.0.0".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "text/plain;escaping=bogus".into(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
    ];
    for (accept, want) in cases {
        assert_eq!(negotiate(&accept).to_string(), want, "{accept}");
    }
}

#[test]
fn negotiate_including_openmetrics_matches_upstream_cases() {
    let cases = [
        (
            "application/openmetrics-text",
            "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores",
        ),
        (
            "application/openmetrics-text;version=0.0.1; escaping=dots",
            "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=dots",
        ),
        (
            "application/openmetrics-text;version=1.0.0",
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores",
        ),
        (
            "application/openmetrics-text;version=2.0.0",
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "application/openmetrics-text;version=0.0.4",
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
        (
            "text/plain;version=0.0.4; escaping=allow-utf-8",
            "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8",
        ),
        (
            "*/*",
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
        ),
    ];
    for (accept, want) in cases {
        assert_eq!(
            negotiate_including_openmetrics(accept).to_string(),
            want,
            "{accept}"
        );
    }
}

#[test]
fn prometheus_default_accept_header_negotiates_openmetrics_1() {
    let header = scrape_accept_header(&ScrapeProtocol::DEFAULT, EscapingScheme::NoEscaping);
    let f = negotiate_including_openmetrics(&header);
    assert_eq!(
        f,
        Format::OPENMETRICS_1_0_0.with_escaping(EscapingScheme::NoEscaping)
    );
    // Without OpenMetrics on offer, text/plain;version=1.0.0 is not 0.0.4, so 0.0.4 wins, and
    // the escaping parameter seen on the earlier clauses is kept.
    let f = negotiate(&header);
    assert_eq!(f, Format::TEXT.with_escaping(EscapingScheme::NoEscaping));
    let proto = scrape_accept_header(&ScrapeProtocol::DEFAULT_PROTO_FIRST, EscapingScheme::Dots);
    assert_eq!(negotiate(&proto).kind(), FormatKind::ProtoDelimited);
}

#[test]
fn accept_ordering_reproduces_goautoneg() {
    let clauses = parse_accept("*/*;q=1, text/plain;q=0.5, application/json;q=0.9");
    let order: Vec<_> = clauses
        .iter()
        .map(|c| format!("{}/{}", c.media_type, c.subtype))
        .collect();
    // Concrete types jump ahead of the wildcard whatever their weight.
    assert_eq!(order, ["application/json", "text/plain", "*/*"]);
    let c = &parse_accept("text/plain; q= 0.5 ;version=0.0.4")[0];
    assert_eq!(c.q, 0.0);
    assert_eq!(c.param("version"), Some("0.0.4"));
    assert!(parse_accept("bogus, a/b/c,").is_empty());
    assert_eq!(parse_accept("*")[0].subtype, "*");
}

#[test]
fn scrape_accept_headers_match_prometheus() {
    assert_eq!(
        scrape_accept_header(&ScrapeProtocol::DEFAULT, EscapingScheme::Underscores),
        "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
    assert_eq!(
        scrape_accept_header(&ScrapeProtocol::DEFAULT_PROTO_FIRST, EscapingScheme::Dots),
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=dots;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=dots;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
    );
    assert_eq!(
        scrape_accept_header(&ScrapeProtocol::DEFAULT, EscapingScheme::NoEscaping),
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
}

#[test]
fn scrape_protocol_names() {
    for p in ScrapeProtocol::ALL {
        assert_eq!(p.as_str().parse::<ScrapeProtocol>(), Ok(p));
    }
    let err = "prometheusproto".parse::<ScrapeProtocol>().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unknown scrape protocol prometheusproto, supported: [")
    );
    let p: Vec<ScrapeProtocol> =
        serde_json::from_str(r#"["PrometheusProto","OpenMetricsText1.0.0"]"#).unwrap();
    assert_eq!(
        p,
        [
            ScrapeProtocol::PrometheusProto,
            ScrapeProtocol::OpenMetricsText1_0_0
        ]
    );
}

#[test]
fn parser_selection_follows_textparse_new() {
    let ok = |ct: &str| select_parser(ct, None).map(|s| s.kind);
    assert_eq!(
        ok("text/plain; version=0.0.4; charset=utf-8"),
        Ok(ParserKind::PromText)
    );
    assert_eq!(
        ok("Application/OpenMetrics-Text; version=1.0.0"),
        Ok(ParserKind::OpenMetrics)
    );
    assert_eq!(
        ok(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        ),
        Ok(ParserKind::Protobuf)
    );
    assert_eq!(ok("text/plain;"), Ok(ParserKind::PromText));
    assert_eq!(
        ok("text/plain; charset=\"utf-8\""),
        Ok(ParserKind::PromText)
    );

    assert_eq!(
        ok("").unwrap_err().to_string(),
        "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target"
    );
    assert_eq!(
        ok("application/json").unwrap_err().to_string(),
        r#"received unsupported Content-Type "application/json" and no fallback_scrape_protocol specified for target"#
    );
    assert_eq!(
        ok("text/plain; version").unwrap_err().to_string(),
        "cannot parse Content-Type \"text/plain; version\" and no fallback_scrape_protocol for target\nmime: invalid media parameter"
    );

    let fb = Some(ScrapeProtocol::PrometheusText0_0_4);
    let s = select_parser("", fb).unwrap();
    assert_eq!(s.kind, ParserKind::PromText);
    assert_eq!(
        s.fallback_reason.unwrap().to_string(),
        r#"non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol "text/plain""#
    );
    let s = select_parser(
        "application/json",
        Some(ScrapeProtocol::OpenMetricsText1_0_0),
    )
    .unwrap();
    assert_eq!(s.kind, ParserKind::OpenMetrics);
    assert_eq!(
        s.fallback_reason.unwrap().to_string(),
        r#"received unsupported Content-Type "application/json", using fallback_scrape_protocol "application/openmetrics-text""#
    );
    let s = select_parser("text/", Some(ScrapeProtocol::PrometheusProto)).unwrap();
    assert_eq!(s.kind, ParserKind::Protobuf);
    assert!(matches!(
        s.fallback_reason,
        Some(ContentTypeError::UnparsableUsingFallback {
            source: MediaTypeError::ExpectedSubtype,
            ..
        })
    ));
}

#[test]
fn media_type_parsing_mirrors_go_mime() {
    assert_eq!(
        parse_media_type("Text/Plain ; Version=0.0.4; q=\"a\\\"b\"").unwrap(),
        (
            "text/plain".into(),
            vec![
                ("version".into(), "0.0.4".into()),
                ("q".into(), "a\"b".into())
            ]
        )
    );
    assert_eq!(parse_media_type("text").unwrap().0, "text");
    assert_eq!(parse_media_type(""), Err(MediaTypeError::NoMediaType));
    assert_eq!(
        parse_media_type("text plain"),
        Err(MediaTypeError::ExpectedSlash)
    );
    assert_eq!(
        parse_media_type("text/plain x"),
        Err(MediaTypeError::TrailingContent)
    );
    assert_eq!(
        parse_media_type("a/b; x=1; X=2"),
        Err(MediaTypeError::DuplicateParameter)
    );
}
