//! The small library scripts may call: dates relative to the application's clock, ages, list
//! helpers. Dates are ISO strings (`2026-03-01`), so `a < b` compares them correctly.
//!
//! Every function is total over well-formed input and returns a clear error otherwise.

use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Position};
use time::{Date, Duration, Month, format_description::FormatItem, macros::format_description};

use super::script_today;

const ISO: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

type R<T> = Result<T, Box<EvalAltResult>>;

fn err<T>(msg: String) -> R<T> {
    Err(Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(msg),
        Position::NONE,
    )))
}

fn parse(s: &str) -> R<Date> {
    match Date::parse(s, ISO) {
        Ok(d) => Ok(d),
        Err(_) => err(format!("'{s}' is not a date (YYYY-MM-DD)")),
    }
}

fn fmt(d: Date) -> R<String> {
    match d.format(ISO) {
        Ok(s) => Ok(s),
        Err(e) => err(e.to_string()),
    }
}

fn today() -> R<Date> {
    match script_today() {
        Some(d) => Ok(d),
        None => err("today() is only available during an evaluation".into()),
    }
}

fn years_between(from: Date, to: Date) -> i64 {
    let mut years = i64::from(to.year() - from.year());
    if (to.month() as u8, to.day()) < (from.month() as u8, from.day()) {
        years -= 1;
    }
    years
}

fn add_months(d: Date, months: i64) -> R<Date> {
    let total = i64::from(d.year()) * 12 + i64::from(d.month() as u8) - 1 + months;
    let year = total.div_euclid(12);
    let month0 = total.rem_euclid(12);
    let Ok(year) = i32::try_from(year) else {
        return err("date out of range".into());
    };
    let Ok(month) = Month::try_from(month0 as u8 + 1) else {
        return err("date out of range".into());
    };
    // The 31st plus one month is the last day of the next month.
    let last = time::util::days_in_month(month, year);
    match Date::from_calendar_date(year, month, d.day().min(last)) {
        Ok(d) => Ok(d),
        Err(e) => err(e.to_string()),
    }
}

fn items_where(list: &Array, key: &str, value: &Dynamic) -> usize {
    list.iter()
        .filter(|item| {
            item.read_lock::<rhai::Map>()
                .and_then(|m| m.get(key).map(|v| same(v, value)))
                .unwrap_or(false)
        })
        .count()
}

fn same(a: &Dynamic, b: &Dynamic) -> bool {
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return x == y;
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return x == y;
    }
    if a.is_string() && b.is_string() {
        return a.to_string() == b.to_string();
    }
    false
}

fn number(d: &Dynamic) -> Option<f64> {
    d.as_int()
        .map(|i| i as f64)
        .ok()
        .or_else(|| d.as_float().ok())
}

/// The names of the functions [`register`] adds (a test checks that the two agree).
#[cfg_attr(target_family = "wasm", allow(dead_code))]
pub(super) const NAMES: &[&str] = &[
    "today",
    "age",
    "age_on",
    "is_date",
    "add_days",
    "add_months",
    "add_years",
    "days_between",
    "year",
    "month",
    "day",
    "answered",
    "count",
    "count_where",
    "any_where",
    "sum_of",
    "lower",
    "upper",
    "round2",
    "cents",
];

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn("today", || -> R<String> { fmt(today()?) });
    engine.register_fn("age", |birth: &str| -> R<i64> {
        Ok(years_between(parse(birth)?, today()?))
    });
    engine.register_fn("age_on", |birth: &str, on: &str| -> R<i64> {
        Ok(years_between(parse(birth)?, parse(on)?))
    });
    engine.register_fn("is_date", |s: &str| Date::parse(s, ISO).is_ok());
    engine.register_fn("add_days", |d: &str, n: i64| -> R<String> {
        let d = parse(d)?;
        match d.checked_add(Duration::days(n)) {
            Some(d) => fmt(d),
            None => err("date out of range".into()),
        }
    });
    engine.register_fn("add_months", |d: &str, n: i64| -> R<String> {
        fmt(add_months(parse(d)?, n)?)
    });
    engine.register_fn("add_years", |d: &str, n: i64| -> R<String> {
        fmt(add_months(parse(d)?, n.saturating_mul(12))?)
    });
    engine.register_fn("days_between", |a: &str, b: &str| -> R<i64> {
        Ok((parse(b)? - parse(a)?).whole_days())
    });
    engine.register_fn("year", |d: &str| -> R<i64> {
        Ok(i64::from(parse(d)?.year()))
    });
    engine.register_fn("month", |d: &str| -> R<i64> {
        Ok(i64::from(parse(d)?.month() as u8))
    });
    engine.register_fn("day", |d: &str| -> R<i64> {
        Ok(i64::from(parse(d)?.day()))
    });

    engine.register_fn("answered", |v: Dynamic| -> bool {
        if v.is_unit() {
            return false;
        }
        if v.is_string() {
            return !v.to_string().trim().is_empty();
        }
        if let Some(a) = v.read_lock::<Array>() {
            return !a.is_empty();
        }
        if let Some(m) = v.read_lock::<rhai::Map>() {
            return !m.is_empty();
        }
        true
    });
    engine.register_fn("count", |v: Dynamic| -> i64 {
        v.read_lock::<Array>().map(|a| a.len() as i64).unwrap_or(0)
    });
    engine.register_fn(
        "count_where",
        |list: Dynamic, key: &str, value: Dynamic| -> i64 {
            list.read_lock::<Array>()
                .map(|a| items_where(&a, key, &value) as i64)
                .unwrap_or(0)
        },
    );
    engine.register_fn(
        "any_where",
        |list: Dynamic, key: &str, value: Dynamic| -> bool {
            list.read_lock::<Array>()
                .map(|a| items_where(&a, key, &value) > 0)
                .unwrap_or(false)
        },
    );
    engine.register_fn("sum_of", |list: Dynamic, key: &str| -> f64 {
        list.read_lock::<Array>()
            .map(|a| {
                a.iter()
                    .filter_map(|item| {
                        item.read_lock::<rhai::Map>()
                            .and_then(|m| m.get(key).and_then(number))
                    })
                    .sum()
            })
            .unwrap_or(0.0)
    });
    engine.register_fn("lower", |s: ImmutableString| s.to_lowercase());
    engine.register_fn("upper", |s: ImmutableString| s.to_uppercase());
    engine.register_fn("round2", |f: f64| (f * 100.0).round() / 100.0);
    engine.register_fn("round2", |i: i64| i as f64);
    // Whole cents from a euro amount's exact decimal text (crate::payment): `cents(30.70 * 2)`
    // is 6140; an amount finer than a cent is an error, never rounded away.
    engine.register_fn("cents", |f: f64| -> Result<i64, Box<rhai::EvalAltResult>> {
        crate::payment::euro_text_to_cents(&format!("{f}")).map_err(|e| e.to_string().into())
    });
    engine.register_fn("cents", |i: i64| i.saturating_mul(100));
}
