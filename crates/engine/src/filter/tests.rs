//! Tests of the filter parser: every operator, precedence, quoting, geo functions, the JSON
//! form, the exact error messages and positions, and robustness against hostile input.

use super::*;
use serde_json::json;

fn ok(text: &str) -> FilterExpr {
    match parse_filter(text) {
        Ok(Some(expr)) => expr,
        other => panic!("`{text}` should parse, got {other:?}"),
    }
}

fn err(text: &str) -> String {
    match parse_filter(text) {
        Err(e) => e.message,
        Ok(expr) => panic!("`{text}` should fail, got {expr:?}"),
    }
}

fn cond(field: &str, condition: Condition) -> FilterExpr {
    FilterExpr::Condition {
        field: field.to_string(),
        condition,
        span: (0, 0),
    }
}

/// Removes spans so expected trees can be written without them.
fn strip(expr: FilterExpr) -> FilterExpr {
    match expr {
        FilterExpr::Condition {
            field, condition, ..
        } => cond(&field, condition),
        FilterExpr::Not(inner) => FilterExpr::Not(Box::new(strip(*inner))),
        FilterExpr::And(items) => FilterExpr::And(items.into_iter().map(strip).collect()),
        FilterExpr::Or(items) => FilterExpr::Or(items.into_iter().map(strip).collect()),
        FilterExpr::Foreign { field, filter, .. } => FilterExpr::Foreign {
            field,
            span: (0, 0),
            filter: Box::new(strip(*filter)),
        },
        other => other,
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

fn list(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[test]
fn every_operator() {
    use Condition::*;
    let cases: Vec<(&str, FilterExpr)> = vec![
        ("a = 1", cond("a", Equal(s("1")))),
        ("a=1", cond("a", Equal(s("1")))),
        ("a != 1", cond("a", NotEqual(s("1")))),
        ("a > 1", cond("a", GreaterThan(s("1")))),
        ("a >= 1", cond("a", GreaterThanOrEqual(s("1")))),
        ("a < -1.5", cond("a", LowerThan(s("-1.5")))),
        ("a <= 1", cond("a", LowerThanOrEqual(s("1")))),
        (
            "a 1 TO 10",
            cond(
                "a",
                Between {
                    from: s("1"),
                    to: s("10"),
                },
            ),
        ),
        ("a IN [x, y]", cond("a", In(list(&["x", "y"])))),
        ("a NOT IN [x]", cond("a", NotIn(list(&["x"])))),
        ("a IN []", cond("a", In(vec![]))),
        ("a IN [x, y,]", cond("a", In(list(&["x", "y"])))),
        ("a EXISTS", cond("a", Exists)),
        ("a NOT EXISTS", cond("a", NotExists)),
        ("a IS NULL", cond("a", IsNull)),
        ("a IS NOT NULL", cond("a", IsNotNull)),
        ("a IS EMPTY", cond("a", IsEmpty)),
        ("a IS NOT EMPTY", cond("a", IsNotEmpty)),
        ("a CONTAINS kiwi", cond("a", Contains(s("kiwi")))),
        ("a NOT CONTAINS kiwi", cond("a", NotContains(s("kiwi")))),
        ("a STARTS WITH ki", cond("a", StartsWith(s("ki")))),
        ("a NOT STARTS WITH ki", cond("a", NotStartsWith(s("ki")))),
        (
            "NOT a = 1",
            FilterExpr::Not(Box::new(cond("a", Equal(s("1"))))),
        ),
        (
            "NOT NOT a EXISTS",
            FilterExpr::Not(Box::new(FilterExpr::Not(Box::new(cond("a", Exists))))),
        ),
        // Case-insensitive keywords.
        ("a not in [x]", cond("a", NotIn(list(&["x"])))),
        ("a is not null", cond("a", IsNotNull)),
        (
            "a 1 To 2",
            cond(
                "a",
                Between {
                    from: s("1"),
                    to: s("2"),
                },
            ),
        ),
        ("a Starts With x", cond("a", StartsWith(s("x")))),
        ("a exists", cond("a", Exists)),
        // Nested fields, dates, quoting.
        ("a.b.c = 1", cond("a.b.c", Equal(s("1")))),
        (
            "d = 2020-01-01T10:00:00",
            cond("d", Equal(s("2020-01-01T10:00:00"))),
        ),
        ("'a b' = 'c d'", cond("a b", Equal(s("c d")))),
        ("\"a b\" = \"c d\"", cond("a b", Equal(s("c d")))),
        (r#"a = "say \"hi\"""#, cond("a", Equal(s("say \"hi\"")))),
        (r"a = 'it\'s'", cond("a", Equal(s("it's")))),
        (r"a = 'back\\slash'", cond("a", Equal(s("back\\slash")))),
        (r"a = 'C:\dir'", cond("a", Equal(s("C:\\dir")))),
        ("a = 'OR'", cond("a", Equal(s("OR")))),
        ("'AND' EXISTS", cond("AND", Exists)),
        ("a = ''", cond("a", Equal(s("")))),
        (
            "a IN [\"c, d\", 'e', f]",
            cond("a", In(list(&["c, d", "e", "f"]))),
        ),
        (
            "a 'x y' TO \"z\"",
            cond(
                "a",
                Between {
                    from: s("x y"),
                    to: s("z"),
                },
            ),
        ),
        ("a = '🐻🐻'", cond("a", Equal(s("🐻🐻")))),
    ];
    for (text, expected) in cases {
        assert_eq!(strip(ok(text)), expected, "filter `{text}`");
    }
}

#[test]
fn precedence_and_parentheses() {
    use Condition::Equal;
    let a = || cond("a", Equal(s("1")));
    let b = || cond("b", Equal(s("2")));
    let c = || cond("c", Equal(s("3")));
    let cases: Vec<(&str, FilterExpr)> = vec![
        (
            "a = 1 OR b = 2 AND c = 3",
            FilterExpr::Or(vec![a(), FilterExpr::And(vec![b(), c()])]),
        ),
        (
            "a = 1 AND b = 2 OR c = 3",
            FilterExpr::Or(vec![FilterExpr::And(vec![a(), b()]), c()]),
        ),
        (
            "(a = 1 OR b = 2) AND c = 3",
            FilterExpr::And(vec![FilterExpr::Or(vec![a(), b()]), c()]),
        ),
        (
            "a = 1 and b = 2 and c = 3",
            FilterExpr::And(vec![a(), b(), c()]),
        ),
        ("((a = 1))", a()),
        (
            "NOT a = 1 AND b = 2",
            FilterExpr::And(vec![FilterExpr::Not(Box::new(a())), b()]),
        ),
        (
            "NOT (a = 1 OR b = 2)",
            FilterExpr::Not(Box::new(FilterExpr::Or(vec![a(), b()]))),
        ),
        ("a=1 AND(b=2)", FilterExpr::And(vec![a(), b()])),
        ("  a = 1\n OR\tb = 2 ", FilterExpr::Or(vec![a(), b()])),
    ];
    for (text, expected) in cases {
        assert_eq!(strip(ok(text)), expected, "filter `{text}`");
    }
}

#[test]
fn empty_filters_are_none() {
    for text in ["", "   ", "\n\t"] {
        assert_eq!(parse_filter(text), Ok(None), "filter `{text:?}`");
    }
}

#[test]
fn spans_and_fields() {
    match ok("x = 1 AND 'the.field' EXISTS") {
        FilterExpr::And(items) => {
            assert!(matches!(
                items[0],
                FilterExpr::Condition { span: (0, 1), .. }
            ));
            assert!(matches!(
                items[1],
                FilterExpr::Condition { span: (10, 21), .. }
            ));
        }
        other => panic!("{other:?}"),
    }
    let expr = ok("a = 1 OR (b IN [1] AND NOT a EXISTS) OR _geoRadius(1, 2, 3) OR c.d > 1");
    assert_eq!(expr.fields(), vec!["a", "b", "_geo", "c.d"]);
}

#[test]
fn geo_functions() {
    let cases: Vec<(&str, FilterExpr)> = vec![
        (
            "_geoRadius(45.4, 9.2, 2000)",
            FilterExpr::GeoRadius {
                lat: 45.4,
                lng: 9.2,
                radius_meters: 2000.0,
                resolution: None,
            },
        ),
        (
            "_geoRadius( -90 , 180 , 0.5 , 25 )",
            FilterExpr::GeoRadius {
                lat: -90.0,
                lng: 180.0,
                radius_meters: 0.5,
                resolution: Some(25.0),
            },
        ),
        (
            "_geoBoundingBox([45.5, 9.3], [45.4, 9.1])",
            FilterExpr::GeoBoundingBox {
                top_right: (45.5, 9.3),
                bottom_left: (45.4, 9.1),
            },
        ),
        (
            "_geoPolygon([1, 2], [3, 4], [5, 6.5])",
            FilterExpr::GeoPolygon(vec![(1.0, 2.0), (3.0, 4.0), (5.0, 6.5)]),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(ok(text), expected, "filter `{text}`");
    }
    assert!(matches!(
        ok("a = 1 AND _geoRadius(1, 2, 3)"),
        FilterExpr::And(_)
    ));
}

/// Exact messages, including `start:end` columns (1-based, in characters) and the filter.
#[test]
fn error_messages_and_positions() {
    let ops = "`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, \
`IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, \
`NOT STARTS WITH`, `_geoRadius`, or `_geoBoundingBox`";
    let reserved_geo = |name: &str| {
        format!("`{name}` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.")
    };
    let radius = "The `_geoRadius` filter expects three arguments: `_geoRadius(latitude, longitude, radius)`.";
    let bbox = "The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.";
    let polygon = "The `_geoPolygon` filter expects at least three points: `_geoPolygon([latitude, longitude], [latitude, longitude], [latitude, longitude], ...)`.";
    let cases: Vec<(&str, String)> = vec![
        ("title", format!("Was expecting an operation {ops} at `title`.\n1:6 title")),
        ("channel Ponce", format!("Was expecting an operation {ops} at `channel Ponce`.\n1:14 channel Ponce")),
        ("'OR'", format!("Was expecting an operation {ops} at `\\'OR\\'`.\n1:5 'OR'")),
        ("channel = Ponce OR", format!("Was expecting an operation {ops} but instead got nothing.\n19:19 channel = Ponce OR")),
        ("colour NOT EXIST", format!("Was expecting an operation {ops} at `colour NOT EXIST`.\n1:17 colour NOT EXIST")),
        ("subscribers 100 TO1000", format!("Was expecting an operation {ops} at `subscribers 100 TO1000`.\n1:23 subscribers 100 TO1000")),
        ("value IS NOT", format!("Was expecting an operation {ops} at `value IS NOT`.\n1:13 value IS NOT")),
        ("value NULL", format!("Was expecting an operation {ops} at `value NULL`.\n1:11 value NULL")),
        ("channel = Ponce = 12", "Found unexpected characters at the end of the filter: `= 12`. You probably forgot an `OR` or an `AND` rule.\n17:21 channel = Ponce = 12".into()),
        ("channel = ponce ORdog != 'bernese mountain'", "Found unexpected characters at the end of the filter: `ORdog != \\'bernese mountain\\'`. You probably forgot an `OR` or an `AND` rule.\n17:44 channel = ponce ORdog != 'bernese mountain'".into()),
        ("channel = mv OR followers >= 1000)", "Found unexpected characters at the end of the filter: `)`. You probably forgot an `OR` or an `AND` rule.\n34:35 channel = mv OR followers >= 1000)".into()),
        ("channel =    ", "Was expecting a value but instead got nothing.\n14:14 channel =    ".into()),
        ("channel = 🐻", "Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻".into()),
        ("channel = 🐻 AND followers < 100", "Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻 AND followers < 100".into()),
        ("OR", "Was expecting a value but instead got `OR`, which is a reserved keyword. To use `OR` as a field name or a value, surround it by quotes.\n1:3 OR".into()),
        ("x = EXISTS", "Was expecting a value but instead got `EXISTS`, which is a reserved keyword. To use `EXISTS` as a field name or a value, surround it by quotes.\n5:11 x = EXISTS".into()),
        ("AND = 8", "Was expecting a value but instead got `AND`, which is a reserved keyword. To use `AND` as a field name or a value, surround it by quotes.\n1:4 AND = 8".into()),
        ("NOT OR EXISTS AND EXISTS NOT EXISTS", "Was expecting a value but instead got `OR`, which is a reserved keyword. To use `OR` as a field name or a value, surround it by quotes.\n5:7 NOT OR EXISTS AND EXISTS NOT EXISTS".into()),
        ("channel = 'ponce", "Expression `\\'ponce` is missing the following closing delimiter: `'`.\n11:17 channel = 'ponce".into()),
        ("channel = \"ponce", "Expression `\\\"ponce` is missing the following closing delimiter: `\"`.\n11:17 channel = \"ponce".into()),
        ("channel = mv OR (followers >= 1000", "Expression `(followers >= 1000` is missing the following closing delimiter: `)`.\n17:35 channel = mv OR (followers >= 1000".into()),
        ("colour IN blue, green]", "Expected `[` after `IN` keyword.\n11:23 colour IN blue, green]".into()),
        ("colour IN [blue, green, 'blue' > 2]", "Expected only comma-separated field names inside `IN[..]` but instead found `> 2]`.\n32:36 colour IN [blue, green, 'blue' > 2]".into()),
        ("colour IN [blue, green, AND]", "Expected only comma-separated field names inside `IN[..]` but instead found `AND]`.\n25:29 colour IN [blue, green, AND]".into()),
        ("colour IN [blue, green", "Expected matching `]` after the list of field names given to `IN[`\n23:23 colour IN [blue, green".into()),
        ("colour IN ['blue, green", "Expression `\\'blue, green` is missing the following closing delimiter: `'`.\n12:24 colour IN ['blue, green".into()),
        // Geo.
        ("_geoRadius", format!("{radius}\n1:11 _geoRadius")),
        ("_geoRadius = 12", format!("{radius}\n1:16 _geoRadius = 12")),
        ("_geoRadius(12, 13)", format!("{radius}\n1:19 _geoRadius(12, 13)")),
        ("_geoRadius(1, 2, 3, 4, 5)", format!("{radius}\n1:26 _geoRadius(1, 2, 3, 4, 5)")),
        ("_geoRadius(1, 2, 3", format!("{radius}\n1:19 _geoRadius(1, 2, 3")),
        ("_geoRadius([1, 2], 3)", format!("{radius}\n1:22 _geoRadius([1, 2], 3)")),
        ("_geoBoundingBox", format!("{bbox}\n1:16 _geoBoundingBox")),
        ("_geoBoundingBox = 12", format!("{bbox}\n1:21 _geoBoundingBox = 12")),
        ("_geoBoundingBox(1.0, 1.0)", format!("{bbox}\n1:26 _geoBoundingBox(1.0, 1.0)")),
        ("_geoBoundingBox([1, 2])", format!("{bbox}\n1:24 _geoBoundingBox([1, 2])")),
        ("_geoBoundingBox([1, 2, 3], [1, 2])", format!("{bbox}\n1:35 _geoBoundingBox([1, 2, 3], [1, 2])")),
        ("_geoPolygon([1, 2], [3, 4])", format!("{polygon}\n1:28 _geoPolygon([1, 2], [3, 4])")),
        ("_geoPolygon(1, 2, 3)", format!("{polygon}\n1:21 _geoPolygon(1, 2, 3)")),
        ("_geoRadius(-100, 150, 10)", "Bad latitude `-100`. Latitude must be contained between -90 and 90 degrees.\n12:16 _geoRadius(-100, 150, 10)".into()),
        ("_geoRadius(-90.0000001, 150, 10)", "Bad latitude `-90.0000001`. Latitude must be contained between -90 and 90 degrees.\n12:23 _geoRadius(-90.0000001, 150, 10)".into()),
        ("_geoRadius(10, 181, 10)", "Bad longitude `181`. Longitude must be contained between -180 and 180 degrees.\n16:19 _geoRadius(10, 181, 10)".into()),
        ("_geoRadius(a, 1, 2)", "invalid float literal\n12:13 _geoRadius(a, 1, 2)".into()),
        ("_geoRadius(1, 2, inf)", "Non finite floats are not supported\n18:21 _geoRadius(1, 2, inf)".into()),
        ("_geoRadius(1, 2, 3, 2)", "Invalid resolution `2`. Resolution must be between 3 and 1000.\n21:22 _geoRadius(1, 2, 3, 2)".into()),
        ("_geoBoundingBox([1, 200], [0, 0])", "Bad longitude `200`. Longitude must be contained between -180 and 180 degrees.\n21:24 _geoBoundingBox([1, 200], [0, 0])".into()),
        ("_geoBoundingBox([1, 2], [5, 0])", "The top latitude `1` is below the bottom latitude `5`.\n18:19 _geoBoundingBox([1, 2], [5, 0])".into()),
        ("_geoPolygon([1, 2], [3, 4], [95, 6])", "Bad latitude `95`. Latitude must be contained between -90 and 90 degrees.\n30:32 _geoPolygon([1, 2], [3, 4], [95, 6])".into()),
        ("position <= _geoRadius(12, 13, 14)", "The `_geoRadius` filter is an operation and can't be used as a value.\n13:35 position <= _geoRadius(12, 13, 14)".into()),
        ("_geo = 12", format!("{}\n1:5 _geo = 12", reserved_geo("_geo"))),
        ("_geo(12, 13, 14)", format!("{}\n1:17 _geo(12, 13, 14)", reserved_geo("_geo"))),
        ("_geoPoint(12, 13, 14)", format!("{}\n1:22 _geoPoint(12, 13, 14)", reserved_geo("_geoPoint"))),
        ("position <= _geoDistance(12, 13, 14)", format!("{}\n13:37 position <= _geoDistance(12, 13, 14)", reserved_geo("_geoDistance"))),
        // Positions are columns within the line of the error.
        ("a = 1 AND\nb = ", "Was expecting a value but instead got nothing.\n5:5 a = 1 AND\nb = ".into()),
    ];
    for (text, expected) in cases {
        assert_eq!(err(text), expected, "filter `{text}`");
    }
}

#[test]
fn deep_nesting_is_an_error_not_an_overflow() {
    let depth_message = "The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.";
    let start = std::time::Instant::now();
    for text in [
        "(".repeat(10_000),
        format!("{}x = 1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}x = 1", "NOT ".repeat(10_000)),
        format!("{}x = 1", "NOT (".repeat(5_000)),
        format!("{}x = 1", "(NOT ".repeat(5_000)),
    ] {
        assert!(err(&text).starts_with(depth_message), "{}", &text[..20]);
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    // The limit itself is allowed.
    let at_limit = format!(
        "{}x = 1{}",
        "(".repeat(MAX_FILTER_DEPTH),
        ")".repeat(MAX_FILTER_DEPTH)
    );
    assert_eq!(strip(ok(&at_limit)), cond("x", Condition::Equal(s("1"))));
    assert!(err(&format!(
        "{}x = 1{}",
        "(".repeat(MAX_FILTER_DEPTH + 1),
        ")".repeat(MAX_FILTER_DEPTH + 1)
    ))
    .starts_with(depth_message));
    let nots = format!("{}x = 1", "NOT ".repeat(MAX_FILTER_DEPTH));
    assert!(parse_filter(&nots).is_ok());
}

#[test]
fn long_filters() {
    // Long flat chains are fine (AND/OR are not nested).
    let clauses: Vec<String> = (0..5_000).map(|i| format!("f{i} = {i}")).collect();
    let text = clauses.join(" OR ");
    assert!(text.len() <= MAX_FILTER_LENGTH);
    match ok(&text) {
        FilterExpr::Or(items) => assert_eq!(items.len(), 5_000),
        other => panic!("{other:?}"),
    }
    let values: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let text = format!("id IN [{}]", values.join(","));
    assert!(matches!(
        ok(&text),
        FilterExpr::Condition { condition: Condition::In(v), .. } if v.len() == 10_000
    ));
    // Too long.
    let text = format!("a = '{}'", "x".repeat(MAX_FILTER_LENGTH));
    assert!(err(&text).contains("too long"));
}

#[test]
fn json_form() {
    use Condition::Equal;
    let a = || cond("a", Equal(s("1")));
    let b = || cond("b", Equal(s("2")));
    let c = || cond("c", Equal(s("3")));
    let parse = |v: serde_json::Value| parse_filter_json(&v).map(|e| e.map(strip));
    assert_eq!(parse(json!(null)), Ok(None));
    assert_eq!(parse(json!([])), Ok(None));
    assert_eq!(parse(json!(["", []])), Ok(None));
    assert_eq!(parse(json!("a = 1")), Ok(Some(a())));
    assert_eq!(parse(json!(["a = 1"])), Ok(Some(a())));
    assert_eq!(
        parse(json!(["a = 1", "b = 2"])),
        Ok(Some(FilterExpr::And(vec![a(), b()])))
    );
    assert_eq!(
        parse(json!([["a = 1", "b = 2"], "c = 3"])),
        Ok(Some(FilterExpr::And(vec![
            FilterExpr::Or(vec![a(), b()]),
            c()
        ])))
    );
    assert_eq!(parse(json!([["a = 1"]])), Ok(Some(a())));
    let message = |v: serde_json::Value| parse_filter_json(&v).unwrap_err().message;
    assert_eq!(
        message(json!(1)),
        "Invalid syntax for the filter parameter: `expected String, Array, found: 1`."
    );
    assert_eq!(
        message(json!(["a = 1", true])),
        "Invalid syntax for the filter parameter: `expected String, [String], found: true`."
    );
    assert_eq!(
        message(json!([["a = 1", ["b = 2"]]])),
        "Invalid syntax for the filter parameter: `expected String, found: [\"b = 2\"]`."
    );
    // Errors inside an item point into that item.
    assert_eq!(
        message(json!(["a = 1", "test = "])),
        "Was expecting a value but instead got nothing.\n8:8 test = "
    );
}

/// A tiny xorshift generator so the property test needs no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_strings_never_panic() {
    const PIECES: &[&str] = &[
        "a",
        "b.c",
        " ",
        "  ",
        "=",
        "!=",
        "!",
        ">",
        ">=",
        "<",
        "<=",
        "(",
        ")",
        "[",
        "]",
        ",",
        "'",
        "\"",
        "\\",
        "AND",
        "or",
        "NOT",
        "IN",
        "TO",
        "EXISTS",
        "IS",
        "NULL",
        "EMPTY",
        "CONTAINS",
        "STARTS",
        "WITH",
        "1",
        "-2.5",
        "_geoRadius",
        "_geoBoundingBox",
        "_geoPolygon",
        "_geo",
        "_geoPoint",
        "🐻",
        "é",
        "\n",
        "\t",
        "'x y'",
        "\"q\\\"\"",
        "1e400",
        "nan",
        "90",
        "181",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0usize;
    for _ in 0..20_000 {
        let len = rng.below(24);
        let mut text = String::new();
        for _ in 0..len {
            if rng.below(10) == 0 {
                // An arbitrary scalar value now and then.
                let c = char::from_u32((rng.next() % 0x3000) as u32).unwrap_or('?');
                text.push(c);
            } else {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        match parse_filter(&text) {
            Ok(Some(expr)) => {
                parsed += 1;
                let _ = expr.fields();
            }
            Ok(None) => {}
            Err(e) => {
                // Every message ends with `start:end filter`.
                let last = e
                    .message
                    .rsplit_once(&format!(" {text}"))
                    .map(|(head, _)| head);
                let position = last.and_then(|head| head.rsplit('\n').next());
                assert!(
                    position.is_some_and(|p| p.contains(':')),
                    "bad message for {text:?}: {}",
                    e.message
                );
            }
        }
    }
    assert!(parsed > 0);
}

#[test]
fn foreign_filters() {
    let foreign = |field: &str, filter: FilterExpr| FilterExpr::Foreign {
        field: field.to_string(),
        span: (0, 0),
        filter: Box::new(filter),
    };
    assert_eq!(
        strip(ok("_foreign(channel, subscribers = 1000)")),
        foreign("channel", cond("subscribers", Condition::Equal(s("1000"))))
    );
    assert_eq!(
        strip(ok(
            "NOT _foreign('channel', name = ponce AND (a = 1 OR b > 2)) AND c = 3"
        )),
        FilterExpr::And(vec![
            FilterExpr::Not(Box::new(foreign(
                "channel",
                FilterExpr::And(vec![
                    cond("name", Condition::Equal(s("ponce"))),
                    FilterExpr::Or(vec![
                        cond("a", Condition::Equal(s("1"))),
                        cond("b", Condition::GreaterThan(s("2"))),
                    ]),
                ]),
            ))),
            cond("c", Condition::Equal(s("3"))),
        ])
    );
    // The span is the field's, for errors pointing at it.
    let FilterExpr::Foreign { span, .. } = ok("_foreign(channel, a = 1)") else {
        unreachable!()
    };
    assert_eq!(span, (9, 16));
    assert_eq!(ok("_foreign(channel, a = 1)").fields(), vec!["channel"]);
    // Once `_foreign` is read, what follows must be its arguments.
    for bad in [
        "_foreign = 1",
        "_foreign(channel)",
        "_foreign(channel a = 1)",
        "_foreign(, a = 1)",
    ] {
        assert!(
            err(bad).starts_with(
                "Was expecting a field name and a condition inside `_foreign(..)` filter"
            ),
            "{bad}: {}",
            err(bad)
        );
    }
    assert!(
        err("_foreign(channel, a = 1").starts_with("Expression `"),
        "{}",
        err("_foreign(channel, a = 1")
    );
    // The JSON form used by the endpoints that cannot resolve them refuses them.
    let refused = parse_filter_json(&json!(["a = 1", "_foreign(channel, a = 1)"])).unwrap_err();
    assert_eq!(
        refused.message,
        "Filter condition `_foreign` is not supported for this endpoint.\n10:17 _foreign(channel, a = 1)"
    );
}
