//! The log's JSON lines: a `tracing-subscriber` layer that writes one JSON object per event,
//! `{"timestamp":…,"level":…,<the event's fields>,"span":{<the span's fields>,"name":…}}`,
//! with one `write` per line.
//!
//! A layer of its own rather than the `fmt` layer's JSON formatter, because of what a request
//! costs: that formatter renders a span's fields into a JSON string when the span opens and
//! parses the string again for every event inside it, and builds each line through a generic
//! serializer. Here a span's fields are rendered once into the fragment that goes into the
//! line as it is, and a line is written into a buffer of the thread that is used again
//! (docs/BENCHMARKS.md, "The request's log line").

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Where the lines go: each call gets one whole line, newline included.
pub trait LineSink: Send + Sync + 'static {
    fn write_line(&self, line: &[u8]);
}

/// Standard error, unbuffered: one system call per line, nothing lost in a crash.
pub struct Stderr;

impl LineSink for Stderr {
    fn write_line(&self, line: &[u8]) {
        let _ = std::io::stderr().lock().write_all(line);
    }
}

/// A buffer in memory (tests read the lines from it).
impl LineSink for Arc<Mutex<Vec<u8>>> {
    fn write_line(&self, line: &[u8]) {
        if let Ok(mut buf) = self.lock() {
            buf.extend_from_slice(line);
        }
    }
}

/// The layer; see the module's documentation.
pub struct JsonLines<W: LineSink> {
    sink: W,
}

impl<W: LineSink> JsonLines<W> {
    pub fn new(sink: W) -> Self {
        JsonLines { sink }
    }
}

/// A span's fields, rendered once as the members of a JSON object (without braces).
struct SpanFields(String);

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: LineSink,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut members = String::with_capacity(96);
        attrs.record(&mut Members(&mut members));
        span.extensions_mut().insert(SpanFields(members));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            values.record(&mut Members(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        thread_local! {
            static LINE: RefCell<String> = RefCell::new(String::with_capacity(256));
        }
        let write = |line: &mut String| {
            line.clear();
            line.push_str("{\"timestamp\":\"");
            // A log line carries the moment it was written, not the request's clock.
            #[allow(clippy::disallowed_methods)]
            timestamp(line, SystemTime::now());
            line.push_str("\",\"level\":\"");
            line.push_str(level(event.metadata().level()));
            line.push('"');
            event.record(&mut Members(line));
            if let Some(span) = ctx.event_span(event) {
                line.push_str(",\"span\":{");
                if let Some(fields) = span.extensions().get::<SpanFields>()
                    && !fields.0.is_empty()
                {
                    line.push_str(&fields.0);
                    line.push(',');
                }
                line.push_str("\"name\":");
                string(line, span.name());
                line.push('}');
            }
            line.push_str("}\n");
            self.sink.write_line(line.as_bytes());
        };
        // A line written while another is being written on this thread (an event from inside
        // a field's formatting) gets a buffer of its own.
        let reused = LINE.with(|line| match line.try_borrow_mut() {
            Ok(mut line) => {
                write(&mut line);
                true
            }
            Err(_) => false,
        });
        if !reused {
            write(&mut String::new());
        }
    }
}

fn level(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// Appends fields as JSON members, each preceded by a comma when the object has some already.
struct Members<'a>(&'a mut String);

impl Members<'_> {
    fn key(&mut self, field: &Field) {
        let open = matches!(self.0.as_bytes().last(), None | Some(b'{'));
        if !open {
            self.0.push(',');
        }
        string(self.0, field.name());
        self.0.push(':');
    }
}

impl Visit for Members<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            let _ = write!(self.0, "{value}");
        } else {
            self.0.push_str("null");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.0.push_str(if value { "true" } else { "false" });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        string(self.0, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.key(field);
        self.0.push('"');
        let _ = write!(Escaped(self.0), "{value:?}");
        self.0.push('"');
    }
}

/// A JSON string.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let _ = Escaped(out).write_str(s);
    out.push('"');
}

/// Writes text escaped for the inside of a JSON string.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.push_str(&s[plain..i]);
            if escape.is_empty() {
                let _ = write!(self.0, "\\u{b:04x}");
            } else {
                self.0.push_str(escape);
            }
            plain = i + 1;
        }
        self.0.push_str(&s[plain..]);
        Ok(())
    }
}

/// RFC 3339 in UTC with microseconds, `2026-11-28T13:05:58.596073Z`. The date and time of the
/// second are kept per thread and made again only when the second changes.
fn timestamp(out: &mut String, now: SystemTime) {
    thread_local! {
        static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
    }
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (cached, mut text) = SECOND.get();
    if cached != secs {
        text = date_time(secs);
        SECOND.set((secs, text));
    }
    out.push_str(std::str::from_utf8(&text).unwrap_or("1970-01-01T00:00:00"));
    let _ = write!(out, ".{:06}Z", since.subsec_micros());
}

/// `YYYY-MM-DDTHH:MM:SS` of seconds since 1970 (UTC), by the days-to-civil-date conversion of
/// the proleptic Gregorian calendar.
fn date_time(secs: u64) -> [u8; 19] {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut s = String::with_capacity(19);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        year.clamp(0, 9999),
        month,
        day,
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    );
    let mut text = [b'0'; 19];
    text.copy_from_slice(&s.as_bytes()[..19]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn lines(run: impl FnOnce()) -> Vec<serde_json::Value> {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        let subscriber = tracing_subscriber::registry().with(JsonLines::new(buf.clone()));
        tracing::subscriber::with_default(subscriber, run);
        let text = String::from_utf8(buf.lock().map(|b| b.clone()).unwrap_or_default())
            .expect("lines are UTF-8");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    #[test]
    fn a_line_has_time_level_fields_and_its_span() {
        let got = lines(|| {
            let span = tracing::info_span!("request", id = %"00ff", method = %"GET", route = "/x");
            span.in_scope(|| tracing::info!(event = "request", status = 200u16, ms = 1.5));
            tracing::warn!(count = -3i64, ok = true, "frei \"Text\"\n\u{1}");
        });
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["level"], "INFO");
        assert_eq!(got[0]["event"], "request");
        assert_eq!(got[0]["status"], 200);
        assert_eq!(got[0]["ms"], 1.5);
        assert_eq!(
            got[0]["span"],
            serde_json::json!({"id": "00ff", "method": "GET", "route": "/x", "name": "request"})
        );
        assert_eq!(got[1]["level"], "WARN");
        assert_eq!(got[1]["message"], "frei \"Text\"\n\u{1}");
        assert_eq!(got[1]["count"], -3);
        assert_eq!(got[1]["ok"], true);
        assert!(got[1].get("span").is_none());
        let ts = got[0]["timestamp"].as_str().expect("a timestamp");
        let parsed =
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                .expect("RFC 3339");
        #[allow(clippy::disallowed_methods)]
        let off = (parsed - time::OffsetDateTime::now_utc()).abs();
        assert!(off < time::Duration::minutes(1), "{ts}");
        assert!(ts.len() == 27 && ts.ends_with('Z'), "{ts}");
    }

    #[test]
    fn values_recorded_later_join_the_span() {
        let got = lines(|| {
            let span = tracing::info_span!("job", tenant = tracing::field::Empty);
            span.record("tenant", "heinsberg");
            span.in_scope(|| tracing::info!(event = "done"));
        });
        assert_eq!(
            got[0]["span"],
            serde_json::json!({"tenant": "heinsberg", "name": "job"})
        );
    }

    #[test]
    fn dates_are_those_of_the_calendar() {
        let text = |s| String::from_utf8(date_time(s).to_vec()).expect("ASCII");
        assert_eq!(text(0), "1970-01-01T00:00:00");
        assert_eq!(text(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(text(1_796_601_599), "2026-12-06T23:59:59");
        for s in (0..4_102_444_800u64).step_by(86_400 * 37 + 3_601) {
            let want = time::OffsetDateTime::from_unix_timestamp(s as i64)
                .expect("in range")
                .format(&time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]"
                ))
                .expect("formats");
            assert_eq!(text(s), want);
        }
    }
}
