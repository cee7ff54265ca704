//! Trace search as Jaeger does it, and the parameter formats of its APIs
//! (Go durations such as `1.5s`, RFC 3339 times, tag maps as JSON).

use super::{Span, Trace};

/// Traces returned when a search gives no limit (Jaeger UI's default).
pub const DEFAULT_LIMIT: usize = 20;

/// A trace search. A trace matches when one of its spans meets every given
/// condition at once (Jaeger's span-level semantics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceQuery {
    /// Service name of the span (`reviews.bookinfo`).
    pub service: Option<String>,
    /// Operation name of the span.
    pub operation: Option<String>,
    /// Tags the span (or its process) must carry, values compared as text.
    pub tags: Vec<(String, String)>,
    /// Shortest span duration in microseconds, inclusive.
    pub min_duration_us: Option<u64>,
    /// Longest span duration in microseconds, inclusive.
    pub max_duration_us: Option<u64>,
    /// Earliest span start, Unix microseconds, inclusive.
    pub start_min_us: Option<u64>,
    /// Latest span start, Unix microseconds, inclusive.
    pub start_max_us: Option<u64>,
    /// Most traces returned, newest first.
    pub limit: usize,
}

impl Default for TraceQuery {
    fn default() -> Self {
        TraceQuery {
            service: None,
            operation: None,
            tags: Vec::new(),
            min_duration_us: None,
            max_duration_us: None,
            start_min_us: None,
            start_max_us: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl TraceQuery {
    /// A query for traces through `service`.
    pub fn service(service: &str) -> Self {
        TraceQuery {
            service: Some(service.to_owned()),
            ..TraceQuery::default()
        }
    }

    /// Whether some span of `trace` meets all conditions.
    pub fn matches(&self, trace: &Trace) -> bool {
        trace.spans.iter().any(|s| self.span_matches(trace, s))
    }

    /// Whether `span` (of `trace`) meets all conditions.
    pub fn span_matches(&self, trace: &Trace, span: &Span) -> bool {
        if self
            .service
            .as_deref()
            .is_some_and(|s| s != trace.service_of(span))
        {
            return false;
        }
        if self
            .operation
            .as_deref()
            .is_some_and(|o| o != span.operation)
        {
            return false;
        }
        if self.min_duration_us.is_some_and(|d| span.duration_us < d)
            || self.max_duration_us.is_some_and(|d| span.duration_us > d)
            || self.start_min_us.is_some_and(|t| span.start_us < t)
            || self.start_max_us.is_some_and(|t| span.start_us > t)
        {
            return false;
        }
        let process_tags = trace.processes.get(span.process).map(|p| p.tags.as_slice());
        self.tags.iter().all(|(k, v)| {
            span.tags
                .iter()
                .chain(process_tags.unwrap_or_default())
                .any(|t| t.key == *k && t.value.to_text() == *v)
        })
    }
}

/// A parameter that could not be parsed; the text says which and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

/// Parses a Go duration (`300ms`, `1.5h`, `2h45m`, `500us`, `0`) into
/// microseconds (rounded down). Negative durations are rejected.
pub fn parse_duration(s: &str) -> Result<u64, ParamError> {
    let bad = || ParamError(format!("invalid duration {s:?}"));
    let text = s.strip_prefix('+').unwrap_or(s);
    if text == "0" {
        return Ok(0);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut rest = text;
    let mut total_ns = 0.0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(bad());
        }
        let value: f64 = number.parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total_ns += value * scale;
    }
    // Go's limit: about 290 years in nanoseconds.
    if !total_ns.is_finite() || total_ns > i64::MAX as f64 {
        return Err(bad());
    }
    Ok((total_ns / 1e3) as u64)
}

/// Parses an RFC 3339 time (`2024-05-01T12:00:00Z`, fractions and offsets
/// allowed) into Unix microseconds. Times before 1970 are rejected.
pub fn parse_rfc3339(s: &str) -> Result<u64, ParamError> {
    let bad = || ParamError(format!("invalid RFC 3339 time {s:?}"));
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return Err(bad());
    }
    let num = |from: usize, to: usize| -> Result<i64, ParamError> {
        let part = &s[from..to];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let sep_ok = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !sep_ok {
        return Err(bad());
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b[i] == b'.' {
        let digits = s[i + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.len() - i - 1);
        if digits == 0 {
            return Err(bad());
        }
        let frac = &s[i + 1..i + 1 + digits];
        let six: String = frac.chars().chain("000000".chars()).take(6).collect();
        micros = six.parse().map_err(|_| bad())?;
        i += 1 + digits;
    }
    let offset_s = match &s[i..] {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (h, m) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            sign * (h * 3600 + m * 60)
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    if secs < 0 {
        return Err(bad());
    }
    Ok(secs as u64 * 1_000_000 + micros as u64)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a tag map given as a JSON object (`{"error":"true"}`). String
/// values are taken as they are; numbers and booleans as their text.
pub fn parse_tags_json(s: &str) -> Result<Vec<(String, String)>, ParamError> {
    let bad = |why: String| ParamError(format!("malformed tags {s:?}: {why}"));
    let value: serde_json::Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
    let serde_json::Value::Object(map) = value else {
        return Err(bad("not a JSON object".to_owned()));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            serde_json::Value::Bool(b) => Ok((k, b.to_string())),
            serde_json::Value::Number(n) => Ok((k, n.to_string())),
            other => Err(bad(format!("value of {k:?} is {other}"))),
        })
        .collect()
}

/// Parses a non-negative integer parameter.
pub fn parse_count(name: &str, s: &str) -> Result<usize, ParamError> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| ParamError(format!("malformed parameter {name}: {s:?} is not a count")))
}

/// Parses a Unix time in microseconds.
pub fn parse_micros(name: &str, s: &str) -> Result<u64, ParamError> {
    s.trim().parse::<u64>().map_err(|_| {
        ParamError(format!(
            "malformed parameter {name}: {s:?} is not a time in µs"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1.2s"), Ok(1_200_000));
        assert_eq!(parse_duration("100ms"), Ok(100_000));
        assert_eq!(parse_duration("500us"), Ok(500));
        assert_eq!(parse_duration("500µs"), Ok(500));
        assert_eq!(parse_duration("2m"), Ok(120_000_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000));
        assert_eq!(parse_duration("1500ns"), Ok(1));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration(".5s"), Ok(500_000));
        for bad in [
            "",
            "10",
            "ms",
            "1.2.3s",
            "-1s",
            "1d",
            "1 s",
            "s1",
            "1e3s",
            "99999999999h",
            ".s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        // 2023-11-14T22:13:20Z is Unix 1_700_000_000.
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20Z"),
            Ok(1_700_000_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20.25+01:00"),
            Ok(1_700_000_000_250_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123456789Z"),
            Ok(1_700_000_000_123_456)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Ok(1_709_164_800_000_000)
        );
        for bad in [
            "",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-13-14T22:13:20Z",
            "2023-02-29T00:00:00Z",
            "2023-11-14T22:13:20.Z",
            "1969-12-31T23:59:59Z",
            "2023-11-14T22:13:20+0100",
            "2023-11-14T22:13:2éZ",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_maps() {
        assert_eq!(
            parse_tags_json(r#"{"error":"true","http.status_code":503}"#),
            Ok(vec![
                ("error".to_owned(), "true".to_owned()),
                ("http.status_code".to_owned(), "503".to_owned())
            ])
        );
        assert!(parse_tags_json("{").is_err());
        assert!(parse_tags_json("[1]").is_err());
        assert!(parse_tags_json(r#"{"a":{}}"#).is_err());
    }
}
