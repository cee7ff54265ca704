//! Plain formatting helpers for numbers, units and times (tested natively).

use crate::types::Unit;

/// A value with its unit, compact: `99.52 %`, `12.3 req/s`, `250 ms`, `1.25 s`.
pub fn value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match unit {
        Unit::Ratio => format!(
            "{} %",
            trim(v * 100.0, if v >= 0.9995 || v == 0.0 { 0 } else { 2 })
        ),
        Unit::RequestsPerSecond => format!("{} req/s", number(v)),
        Unit::Milliseconds if v >= 1000.0 => format!("{} s", trim(v / 1000.0, 2)),
        Unit::Milliseconds => format!("{} ms", number(v)),
        Unit::Bytes => format!("{} B", number(v)),
        Unit::BytesPerSecond => format!("{} B/s", number(v)),
        Unit::Number => number(v),
    }
}

/// A tick label without the unit (the axis names it).
pub fn tick(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Ratio => trim(v * 100.0, 2),
        _ => number(v),
    }
}

/// The unit's short name for axis captions.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Ratio => "%",
        Unit::RequestsPerSecond => "req/s",
        Unit::Milliseconds => "ms",
        Unit::Bytes => "bytes",
        Unit::BytesPerSecond => "bytes/s",
        Unit::Number => "value",
    }
}

/// Three significant digits, at most two decimals; thousands as `k`.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{}k", trim(v / 1000.0, 1))
    } else if a >= 100.0 {
        trim(v, 0)
    } else if a >= 10.0 {
        trim(v, 1)
    } else {
        trim(v, 2)
    }
}

fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A time axis label for Unix time `t` shifted by `offset_s` (local time):
/// `HH:MM` when the range spans up to a day, else `MM-DD HH:MM`.
pub fn time_label(t: f64, offset_s: i64, span_s: f64) -> String {
    let local = t as i64 + offset_s;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let hm = format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60);
    if span_s <= 86_400.0 {
        hm
    } else {
        let (_, m, d) = civil(days);
        format!("{m:02}-{d:02} {hm}")
    }
}

/// A full date and time, e.g. `2026-11-26 14:05`.
pub fn datetime(t: f64, offset_s: i64) -> String {
    let local = t as i64 + offset_s;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// A time of day with seconds, e.g. `14:05:07`, for events seconds apart.
pub fn clock(t: f64, offset_s: i64) -> String {
    let secs = (t.floor() as i64 + offset_s).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM` (an HTML `datetime-local` value) as local time.
pub fn parse_datetime_local(s: &str, offset_s: i64) -> Option<f64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (t.next()??, t.next()??);
    if !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&min)
    {
        return None;
    }
    // Days from civil (inverse of `civil`).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60 - offset_s) as f64)
}

/// `YYYY-MM-DDTHH:MM` for an HTML `datetime-local` input.
pub fn datetime_local(t: f64, offset_s: i64) -> String {
    datetime(t, offset_s).replacen(' ', "T", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_units() {
        assert_eq!(value(0.99523, Unit::Ratio), "99.52 %");
        assert_eq!(value(1.0, Unit::Ratio), "100 %");
        assert_eq!(value(12.345, Unit::RequestsPerSecond), "12.3 req/s");
        assert_eq!(value(0.04, Unit::RequestsPerSecond), "0.04 req/s");
        assert_eq!(value(250.0, Unit::Milliseconds), "250 ms");
        assert_eq!(value(1250.0, Unit::Milliseconds), "1.25 s");
        assert_eq!(value(f64::NAN, Unit::Milliseconds), "–");
        assert_eq!(number(25_000.0), "25k");
    }

    #[test]
    fn times_format_and_parse() {
        // 2026-11-26 14:05:00 UTC = 1795701900.
        let t = 1_795_701_900.0;
        assert_eq!(datetime(t, 0), "2026-11-26 14:05");
        assert_eq!(datetime(t, 3600), "2026-11-26 15:05");
        assert_eq!(time_label(t, 0, 3600.0), "14:05");
        assert_eq!(time_label(t, 0, 7.0 * 86_400.0), "11-26 14:05");
        assert_eq!(parse_datetime_local("2026-11-26T14:05", 0), Some(t));
        assert_eq!(
            parse_datetime_local(&datetime_local(t, -18_000), -18_000),
            Some(t)
        );
        assert_eq!(parse_datetime_local("2026-13-01T00:00", 0), None);
        assert_eq!(parse_datetime_local("yesterday", 0), None);
        // Leap day and year boundary.
        assert_eq!(datetime(951_782_400.0, 0), "2000-02-29 00:00");
        assert_eq!(datetime(1_798_761_599.0, 0), "2026-12-31 23:59");
        assert_eq!(clock(t + 7.9, 0), "14:05:07");
        assert_eq!(clock(1_798_761_599.0, 3600), "00:59:59");
    }
}

/// Orders names as people count: digit runs by value, so `ns8` comes
/// before `ns10`; otherwise by character.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (na, nb) = (
                    a[..da].trim_start_matches('0'),
                    b[..db].trim_start_matches('0'),
                );
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

/// Percent-encodes a query-string component (RFC 3986 unreserved kept).
pub fn encode_component(value: &str) -> String {
    encode(value, b"")
}

/// Like [`encode_component`], keeping `/`: for a path carried in a query
/// value (`/login?next=/metrics`), readable and still unambiguous.
pub fn encode_path(value: &str) -> String {
    encode(value, b"/")
}

/// Percent-encodes every byte but the unreserved characters and `keep`.
fn encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&k2=v2` from pairs, skipping empty values.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A typed query (a flat struct of optional strings, numbers and
/// booleans, such as [`crate::types::GraphQuery`]) as a query string, in
/// field order; whole numbers are written without a fraction.
pub fn query_of<T: serde::Serialize>(query: &T) -> String {
    // JSON text keeps the struct's field order; a map of it would sort.
    let Ok(fields) =
        serde_json::to_string(query).and_then(|json| serde_json::from_str::<Fields>(&json))
    else {
        return String::new();
    };
    let pairs: Vec<(&str, String)> = fields
        .0
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                    _ => n.to_string(),
                },
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.as_str(), text)
        })
        .collect();
    query_string(&pairs)
}

/// A JSON object's fields in the order written.
struct Fields(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn typed_queries_keep_field_order_and_whole_numbers() {
        use crate::types::{MetricsQuery, MetricsScopeKind, TimeSpan, TraceSearchQuery};
        let m = MetricsQuery {
            scope: Some(MetricsScopeKind::Service),
            namespace: Some("bookinfo".into()),
            name: Some("product page".into()),
            range: TimeSpan::parse_range("15m"),
            ..MetricsQuery::default()
        };
        assert_eq!(
            query_of(&m),
            "scope=service&namespace=bookinfo&name=product%20page&range=15m"
        );
        let t = TraceSearchQuery {
            service: Some("reviews.bookinfo".into()),
            start: Some(1_700_000_000.0),
            end: Some(1_700_000_600.5),
            ..TraceSearchQuery::default()
        };
        assert_eq!(
            query_of(&t),
            "service=reviews.bookinfo&start=1700000000&end=1700000600.5"
        );
    }

    #[test]
    fn query_strings_encode_and_skip_empty_values() {
        assert_eq!(
            query_string(&[
                ("scope", "service".into()),
                ("name", "a b&c=d/é".into()),
                ("project", String::new())
            ]),
            "scope=service&name=a%20b%26c%3Dd%2F%C3%A9"
        );
    }
}

/// Seconds in words: `15 s`, `2 min`, `1 h`, `1 d`.
pub fn duration_words(seconds: f64) -> String {
    let s = seconds.round() as i64;
    if s % 86_400 == 0 && s >= 86_400 {
        format!("{} d", s / 86_400)
    } else if s % 3600 == 0 && s >= 3600 {
        format!("{} h", s / 3600)
    } else if s % 60 == 0 && s >= 60 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// RFC 3339 UTC time with microseconds, e.g. `2026-11-26T14:05:00.000000Z`.
pub fn rfc3339_from_us(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod rfc3339_tests {
    #[test]
    fn rfc3339_has_microseconds() {
        assert_eq!(
            super::rfc3339_from_us(1_795_701_900_123_456),
            "2026-11-26T14:05:00.123456Z"
        );
        assert_eq!(super::rfc3339_from_us(0), "1970-01-01T00:00:00.000000Z");
    }
}

#[cfg(test)]
mod natural_tests {
    use super::natural_cmp;

    #[test]
    fn digit_runs_compare_by_value() {
        let mut names = vec![
            "team2-ns10",
            "team2-ns8",
            "team10-ns1",
            "team2-ns9",
            "bookinfo",
            "team2-ns08x",
            "team1",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "bookinfo",
                "team1",
                "team2-ns8",
                "team2-ns08x",
                "team2-ns9",
                "team2-ns10",
                "team10-ns1"
            ]
        );
        assert_eq!(natural_cmp("a", "a"), std::cmp::Ordering::Equal);
        assert_eq!(natural_cmp("é1", "é2"), std::cmp::Ordering::Less);
    }
}
