#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use serde_json::json;
use time::macros::date;

fn names(n: &[&str]) -> Names {
    Names::new(n.iter().map(|s| s.to_string()))
}

fn env(n: &Names, answers: serde_json::Value) -> Env<'_> {
    // Leaked: a test's few answers live as long as the test binary.
    let map: &'static serde_json::Map<String, serde_json::Value> =
        Box::leak(Box::new(answers.as_object().cloned().unwrap_or_default()));
    Env::new(n, |k| map.get(k), date!(2026 - 11 - 28))
}

#[test]
fn conditions_see_answers_and_unanswered_names_are_unit() {
    let sb = Sandbox::default();
    let n = names(&["alter", "land"]);
    let e = sb
        .compile_expression(r#"alter >= 18 && land == "DE""#, &n)
        .unwrap();
    assert!(
        sb.eval_bool(&e, &mut env(&n, json!({"alter": 30, "land": "DE"})))
            .unwrap()
    );
    assert!(
        !sb.eval_bool(&e, &mut env(&n, json!({"alter": 12, "land": "DE"})))
            .unwrap()
    );
    let e = sb.compile_expression("answered(land)", &n).unwrap();
    assert!(!sb.eval_bool(&e, &mut env(&n, json!({}))).unwrap());
    assert_eq!(e.mentions, vec!["land".to_string()]);
}

#[test]
fn unknown_names_are_compile_errors() {
    let sb = Sandbox::default();
    let err = sb
        .compile_expression("alterr >= 18", &names(&["alter"]))
        .unwrap_err();
    match err {
        ScriptError::Syntax { message, .. } => assert!(message.contains("alterr"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_library_uses_the_evaluation_date_not_the_real_clock() {
    let sb = Sandbox::default();
    let n = names(&["geb"]);
    let e = sb.compile_expression("age(geb)", &n).unwrap();
    let v = sb
        .eval(&e, &mut env(&n, json!({"geb": "2008-11-29"})))
        .unwrap();
    assert_eq!(v.as_i64().unwrap(), 17);
    let v = sb
        .eval(&e, &mut env(&n, json!({"geb": "2008-11-28"})))
        .unwrap();
    assert_eq!(v.as_i64().unwrap(), 18);
    let e = sb.compile_expression("today()", &n).unwrap();
    let v = sb.eval(&e, &mut env(&n, json!({}))).unwrap();
    assert_eq!(v.as_str().unwrap(), "2026-11-28");
    let e = sb
        .compile_expression(r#"add_months("2026-01-31", 1)"#, &n)
        .unwrap();
    assert_eq!(
        sb.eval(&e, &mut env(&n, json!({})))
            .unwrap()
            .as_str()
            .unwrap(),
        "2026-02-28"
    );
    let e = sb
        .compile_expression(r#"days_between("2026-03-01", "2026-03-15")"#, &n)
        .unwrap();
    assert_eq!(
        sb.eval(&e, &mut env(&n, json!({})))
            .unwrap()
            .as_i64()
            .unwrap(),
        14
    );
}

#[test]
fn list_helpers_count_group_entries() {
    let sb = Sandbox::default();
    let n = names(&["hunde"]);
    let hunde = json!({"hunde": [{"art": "normal"}, {"art": "gefaehrlich"}, {"art": "normal"}]});
    let e = sb
        .compile_expression(r#"count_where(hunde, "art", "normal") * 96 + count_where(hunde, "art", "gefaehrlich") * 600"#, &n)
        .unwrap();
    assert_eq!(
        sb.eval(&e, &mut env(&n, hunde.clone()))
            .unwrap()
            .as_i64()
            .unwrap(),
        792
    );
    let e = sb.compile_expression("count(hunde)", &n).unwrap();
    assert_eq!(
        sb.eval(&e, &mut env(&n, hunde)).unwrap().as_i64().unwrap(),
        3
    );
}

#[test]
fn no_way_out_of_the_sandbox() {
    let sb = Sandbox::default();
    let n = names(&[]);
    for src in [
        r#"import "x" as y; 1"#,
        r#"eval("1")"#,
        "timestamp()",
        "sleep(10)",
        r#"parse_json("{}")"#,
    ] {
        let compiled = sb.compile_script(src, &n);
        let failed = match compiled {
            Err(_) => true,
            Ok(e) => sb.eval(&e, &mut env(&n, json!({}))).is_err(),
        };
        assert!(failed, "{src} should not run");
    }
}

#[test]
fn expressions_refuse_statements() {
    let sb = Sandbox::default();
    let n = names(&[]);
    assert!(sb.compile_expression("while true {}", &n).is_err());
    assert!(sb.compile_expression("let x = 1", &n).is_err());
}

#[test]
fn hostile_scripts_are_stopped_within_their_limits() {
    let sb = Sandbox::default();
    let n = names(&[]);
    let cases = [
        ("loop {}", "operations"),
        ("let x = 0; while true { x += 1; } x", "operations"),
        ("fn f(x) { f(x + 1) } f(0)", "nested"),
        (r#"let s = "x"; loop { s += s; } s"#, "limit"),
        ("let a = []; loop { a.push(1); } a", "limit"),
        (
            "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; } m",
            "operations",
        ),
    ];
    for (src, _) in cases {
        let e = sb.compile_script(src, &n).unwrap();
        let start = std::time::Instant::now();
        let err = sb.eval(&e, &mut env(&n, json!({}))).unwrap_err();
        assert!(matches!(err, ScriptError::Limit(_)), "{src}: {err:?}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{src} took too long"
        );
    }
    // Deep nesting is refused when compiling.
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert!(sb.compile_expression(&deep, &n).is_err());
}

#[test]
fn wall_clock_limit_stops_slow_scripts() {
    let limits = Limits {
        max_operations: 0,
        wall_clock: std::time::Duration::from_millis(20),
        ..Limits::default()
    };
    let sb = Sandbox::new(limits);
    let e = sb.compile_script("loop {}", &names(&[])).unwrap();
    let start = std::time::Instant::now();
    let err = sb.eval(&e, &mut env(&names(&[]), json!({}))).unwrap_err();
    assert!(matches!(err, ScriptError::Limit(_)), "{err:?}");
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn identifiers_skip_strings_and_properties() {
    assert_eq!(
        identifiers(r#"a == "b c" && d.e > 1 // f"#),
        vec!["a".to_string(), "d".to_string()]
    );
    assert_eq!(
        identifiers("/* it's /* nested */ g */ a > 1"),
        vec!["a".to_string()]
    );
}

#[test]
fn an_environment_loads_only_what_an_expression_mentions_and_still_sees_everything() {
    let sb = Sandbox::default();
    let n = names(&["a", "b"]);
    // Not a simple condition: rhai evaluates it.
    let e = sb.compile_expression("a + 0 > 1", &n).unwrap();
    let mut env = env(&n, json!({"a": 2, "b": 3}));
    assert!(sb.eval_bool(&e, &mut env).unwrap());
    assert_eq!(env.scope.len(), 1);
    // A name the scan of the source cannot see (inside a string it cannot tell from a
    // comment) is found all the same.
    let e = sb.compile_script("let s = `'`; b", &n).unwrap();
    assert_eq!(e.mentions, Vec::<String>::new());
    assert_eq!(sb.eval(&e, &mut env).unwrap().as_i64().unwrap(), 3);
}

#[test]
fn a_scripts_own_variables_end_with_it() {
    let sb = Sandbox::default();
    let n = names(&["a"]);
    let script = sb.compile_script("let a = 10; a * 2", &n).unwrap();
    let cond = sb.compile_expression("a == 1", &n).unwrap();
    let mut env = env(&n, json!({"a": 1}));
    assert_eq!(sb.eval(&script, &mut env).unwrap().as_i64().unwrap(), 20);
    assert!(sb.eval_bool(&cond, &mut env).unwrap());
}

#[test]
fn comparing_an_unanswered_value_is_false_not_an_error() {
    let sb = Sandbox::default();
    let n = names(&["x"]);
    let e = sb.compile_expression(r#"x == "ja""#, &n).unwrap();
    assert!(!sb.eval_bool(&e, &mut env(&n, json!({}))).unwrap());
    let e = sb.compile_expression(r#"x != "ja""#, &n).unwrap();
    assert!(sb.eval_bool(&e, &mut env(&n, json!({}))).unwrap());
}

#[test]
fn simple_conditions_mean_exactly_what_rhai_says() {
    let sb = Sandbox::default();
    let n = names(&["a", "b"]);
    let values = [
        json!(null),
        json!(0),
        json!(5),
        json!(-3),
        json!(42),
        json!("ja"),
        json!(""),
        json!("nein"),
        json!("Ja"),
        json!(true),
        json!(false),
        json!(1.5),
        json!(2.0),
        json!([1]),
        json!({"x": 1}),
    ];
    let mut decided = 0;
    for op in ["==", "!=", "<", "<=", ">", ">="] {
        for lit in ["0", "5", "\"ja\"", "\"\"", "true", "false", "b"] {
            for src in [
                format!("a {op} {lit}"),
                format!("{lit} {op} a"),
                format!("!(a {op} {lit}) || a == \"ja\""),
                format!("a {op} {lit} && b != 0"),
                format!("(a {op} {lit}) == (b {op} {lit})"),
            ] {
                let e = sb.compile_expression(&src, &n).unwrap();
                let simple = e
                    .simple
                    .clone()
                    .unwrap_or_else(|| panic!("{src} is simple"));
                for va in &values {
                    for vb in [json!(null), json!(5), json!("ja"), json!(true)] {
                        let answers = json!({"a": va, "b": vb});
                        let by_rhai = sb.eval_bool_by_rhai(&e, &mut env(&n, answers.clone()));
                        if let Some(v) = env(&n, answers).decide(&simple) {
                            decided += 1;
                            assert_eq!(by_rhai, Ok(v), "{src} with a = {va}, b = {vb}");
                        }
                    }
                }
            }
        }
    }
    assert!(decided > 2000, "only {decided} decided without rhai");
}

#[test]
fn only_simple_conditions_are_decided_without_rhai() {
    let sb = Sandbox::default();
    let n = names(&["a", "b"]);
    for src in [
        "a.len() > 1",
        "answered(a)",
        "a > 1.5",
        "a > -1",
        "a < b == true",
        "a == 'x'",
        "a == \"x\\\"\"",
        "a + 1 > 2",
        "a in [1, 2]",
        "a == 1 // comment",
    ] {
        let e = sb.compile_expression(src, &n).unwrap();
        assert!(e.simple.is_none(), "{src} is not simple");
    }
    for src in [
        "a",
        "!a",
        "a == 1 && (b != \"x\" || !b)",
        "a >= 0 && b != \"\"",
    ] {
        let e = sb.compile_expression(src, &n).unwrap();
        assert!(e.simple.is_some(), "{src} is simple");
    }
    // A computed value set in the environment is what a simple condition reads.
    let e = sb.compile_expression("a > 2", &n).unwrap();
    let mut env = env(&n, json!({"a": 1}));
    env.set("a", &json!(3));
    assert!(sb.eval_bool(&e, &mut env).unwrap());
}

#[test]
fn results_are_json_values() {
    let sb = Sandbox::default();
    let n = names(&["hunde"]);
    let mut env = env(&n, json!({"hunde": [{"art": "normal"}]}));
    let eval = |src: &str, env: &mut Env<'_>| {
        let e = sb.compile_script(src, &n).unwrap();
        sb.eval(&e, env).unwrap()
    };
    // 70.0 € is 70 €: whole amounts stay integers.
    assert_eq!(eval("7.0 * 10", &mut env), json!(70));
    assert_eq!(eval("30.7", &mut env), json!(30.7));
    assert_eq!(eval("()", &mut env), json!(null));
    assert_eq!(eval("hunde", &mut env), json!([{"art": "normal"}]));
    assert_eq!(
        eval(r#"#{ a: 1, b: "x" }"#, &mut env),
        json!({"a": 1, "b": "x"})
    );
}

#[test]
fn one_equality_names_its_answer_and_value() {
    let sb = Sandbox::default();
    let n = names(&["grund", "anzahl", "lastschrift"]);
    let eq = |src: &str| {
        sb.compile_expression(src, &n)
            .unwrap()
            .equality()
            .map(|(k, v)| (k.to_string(), v))
    };
    assert_eq!(
        eq(r#"grund == "sonstiges""#),
        Some(("grund".into(), json!("sonstiges")))
    );
    assert_eq!(eq("3 == anzahl"), Some(("anzahl".into(), json!(3))));
    assert_eq!(
        eq("lastschrift == true"),
        Some(("lastschrift".into(), json!(true)))
    );
    assert_eq!(eq(r#"grund != "x""#), None);
    assert_eq!(eq(r#"grund == "a" || grund == "b""#), None);
    assert_eq!(eq("anzahl > 2"), None);
}

#[test]
#[cfg(feature = "coverage")]
fn a_traced_sandbox_tells_which_ways_of_a_scripts_ifs_were_taken() {
    let (sb, trace) = Sandbox::traced(Limits::default());
    let n = names(&["art", "menge"]);
    let script = sb
        .compile_script(
            "let fee = 0;\nif art == \"a\" {\n  fee = 1;\n} else if art == \"b\" {\n  fee = 2;\n} else {\n  fee = 3;\n}\nif menge > 10 { fee += 5; }\nfee",
            &n,
        )
        .unwrap();
    let ifs = crate::script::branches(&script);
    assert_eq!(
        ifs.iter().map(|b| b.condition.as_str()).collect::<Vec<_>>(),
        ["art == \"a\"", "art == \"b\"", "menge > 10"]
    );
    // Nothing run yet: every way is open.
    assert_eq!(trace.untaken(&script).len(), 6);
    let mut e = env(&n, json!({"art": "a", "menge": 3}));
    assert_eq!(sb.eval(&script, &mut e).unwrap(), json!(1));
    let mut e = env(&n, json!({"art": "b", "menge": 30}));
    assert_eq!(sb.eval(&script, &mut e).unwrap(), json!(7));
    // `art == "b"` never false (the final else), `art == "a"` and `menge > 10` both ways.
    assert_eq!(
        trace.untaken(&script),
        [(4, "art == \"b\"".to_string(), false)]
    );
    let mut e = env(&n, json!({"art": "c", "menge": 3}));
    sb.eval(&script, &mut e).unwrap();
    assert!(trace.untaken(&script).is_empty());
    // An untraced sandbox counts nothing and evaluates the same.
    let plain = Sandbox::default();
    let mut e = env(&n, json!({"art": "c", "menge": 30}));
    assert_eq!(plain.eval(&script, &mut e).unwrap(), json!(8));
}

/// The amount a payment charges is the amount the fee list shows: over many fee rules (a fee per
/// year times years, a fee per item plus a base fee, a percentage rounded with `round2`) the
/// whole cents from `cents(...)` equal the exact decimal arithmetic, and the euro text of the
/// computed fee (what the review page lists) equals the cents' own text (what the payment box,
/// the platform and the receipt show).
#[test]
fn cents_of_every_fee_rule_is_exact_and_shows_as_the_fee_does() {
    use crate::application::format_value;
    use crate::definition::ValueFormat;
    use crate::payment::format_cents;
    let sb = Sandbox::default();
    let n = names(&["jahre", "anzahl"]);
    let mut checked = 0;
    // Fees per year in cents: every cent up to 20 €, then a sweep to 10,000 €.
    let fees: Vec<i64> = (1..=2_000).chain((2_000..1_000_000).step_by(997)).collect();
    for fee in fees {
        let euro = format!("{}.{:02}", fee / 100, fee % 100);
        for jahre in 1..=3i64 {
            let rules = [
                // gebuehr_pro_jahr * jahre, as the Bewohnerparkausweis computes it.
                (format!("round2({euro} * jahre)"), fee * jahre),
                // A base fee and a fee per item.
                (format!("round2(5.10 + {euro} * anzahl)"), 510 + fee * jahre),
            ];
            for (rule, want) in rules {
                let env_of = || env(&n, json!({"jahre": jahre, "anzahl": jahre}));
                let fee_expr = sb.compile_expression(&rule, &n).unwrap();
                let shown = sb.eval(&fee_expr, &mut env_of()).unwrap();
                let charged = sb
                    .compile_expression(&format!("cents({rule})"), &n)
                    .unwrap();
                let cents = sb.eval(&charged, &mut env_of()).unwrap();
                assert_eq!(cents, json!(want), "{rule} with {jahre}");
                assert_eq!(
                    format_value(&shown, ValueFormat::Euro, crate::Lang::De),
                    format_cents(want, crate::Lang::De),
                    "{rule} with {jahre}"
                );
                assert_eq!(
                    format_value(&cents, ValueFormat::Cents, crate::Lang::De),
                    format_cents(want, crate::Lang::De)
                );
                checked += 1;
            }
        }
    }
    // A percentage that needs rounding: 19 % of 10.55 is 2.0045, rounded to 2.00.
    let e = sb
        .compile_expression("cents(round2(10.55 * 0.19))", &n)
        .unwrap();
    assert_eq!(sb.eval(&e, &mut env(&n, json!({}))).unwrap(), json!(200));
    // Without rounding, an amount finer than a cent is an error, never rounded away.
    let e = sb.compile_expression("cents(0.1 + 0.2)", &n).unwrap();
    assert!(sb.eval(&e, &mut env(&n, json!({}))).is_err());
    assert!(checked > 10_000, "{checked}");
}

fn unknown_call_of(sb: &Sandbox, n: &Names, source: &str, script: bool) -> Option<String> {
    let compiled = if script {
        sb.compile_script(source, n)
    } else {
        sb.compile_expression(source, n)
    };
    match compiled {
        Ok(_) => None,
        Err(ScriptError::Syntax {
            message,
            line,
            column,
        }) => Some(format!("{line}:{column} {message}")),
        Err(other) => panic!("{source}: {other}"),
    }
}

#[test]
fn a_call_of_a_function_that_does_not_exist_is_a_compile_error() {
    let sb = Sandbox::default();
    let n = names(&["hunde", "geburtsdatum", "betrag"]);
    assert_eq!(
        unknown_call_of(
            &sb,
            &n,
            r#"any_wher(hunde, "kategorie", "gefaehrlich")"#,
            false
        )
        .as_deref(),
        Some("1:1 unknown function `any_wher`: did you mean `any_where`?")
    );
    assert_eq!(
        unknown_call_of(
            &sb,
            &n,
            "age(geburtsdatum) >= 18 && alterr(geburtsdatum) < 99",
            false
        )
        .as_deref(),
        Some(
            "1:28 unknown function `alterr`: neither the form library nor rhai has a function of this name"
        )
    );
    // A method call is a call too; the position counts lines in a script.
    assert_eq!(
        unknown_call_of(&sb, &n, "let x = [1, 2];\nx.lne()", true).as_deref(),
        Some("2:3 unknown function `lne`: did you mean `len`?")
    );
    assert_eq!(
        unknown_call_of(&sb, &n, "cent(betrag)", false).as_deref(),
        Some("1:1 unknown function `cent`: did you mean `cents`?")
    );
    // German for the library's English names finds nothing close: the message says so.
    assert_eq!(
        unknown_call_of(&sb, &n, "heute()", false).as_deref(),
        Some(
            "1:1 unknown function `heute`: neither the form library nor rhai has a function of this name"
        )
    );
}

#[test]
fn what_looks_like_a_call_but_is_not_one_compiles() {
    let sb = Sandbox::default();
    let n = names(&["hunde", "betrag", "name"]);
    for source in [
        // Strings, comments and the text of a backtick string are no code.
        r#"name == "Summe (netto)" || name == 'x'"#,
        "betrag > 0 // pruefe(betrag)",
        "/* alt: pruefe(betrag) /* verschachtelt */ */ betrag > 0",
        "`Summe (netto): ${betrag}` != \"\"",
        // Keywords before a parenthesis, the library, rhai's packages, methods.
        "if (betrag > 0) { cents(betrag) } else { 0 }",
        "count_where(hunde, \"kategorie\", \"normal\") + hunde.len() + max(1, 2)",
        "name.to_upper().contains(\"A\") && type_of(name) == \"string\"",
    ] {
        assert_eq!(unknown_call_of(&sb, &n, source, true), None, "{source}");
    }
    for source in [
        // A function the script defines, before or after its call.
        "fn doppelt(x) { x * 2 }\ndoppelt(betrag)",
        "let y = halb(betrag);\nfn halb(x) { x / 2 }\ny",
        // A function pointer in a variable, called by name.
        "let f = |x| x + 1;\nf(betrag)",
        "let f = Fn(\"cents\");\nf.call(betrag)",
        // A call inside the interpolation of a backtick string is checked as code.
        "let s = `${cents(betrag)} Cent`;\ns",
    ] {
        assert_eq!(unknown_call_of(&sb, &n, source, true), None, "{source}");
    }
    assert_eq!(
        unknown_call_of(&sb, &n, "let s = `${centz(betrag)} Cent`;\ns", true).as_deref(),
        Some("1:12 unknown function `centz`: did you mean `cents`?")
    );
}

/// The functions the sandbox knows by name are exactly those its engine has: rhai's packages
/// (`calls::RHAI`) and the library.
#[test]
fn the_known_functions_are_the_engines_functions() {
    let sb = Sandbox::default();
    let mut engine: Vec<String> = sb
        .engine
        .gen_fn_signatures(true)
        .into_iter()
        .filter_map(|s| s.split('(').next().map(str::to_string))
        .map(|s| {
            s.trim_start_matches("get$")
                .trim_start_matches("set$")
                .to_string()
        })
        // Operators are called as operators, never by name.
        .filter(|s| s.chars().next().is_some_and(|c| c.is_alphabetic()))
        .collect();
    engine.sort();
    engine.dedup();
    let mut known: Vec<String> = calls::RHAI
        .iter()
        .chain(library::NAMES)
        .map(|s| s.to_string())
        .collect();
    known.sort();
    known.dedup();
    assert_eq!(engine, known);
}
