//! Lengths of time written as text (`90s`, `1h30m`, `1.5s`, `250ms`, `7d`):
//! the one reader of durations, for query parameters, flags, settings and
//! the wizards' Istio fields. Each use states which units and forms it
//! takes ([`TimeSpan::uses_only`], [`TimeSpan::is_whole`]); the grammar is
//! the same everywhere.

use serde::{Deserialize, Serialize};

/// A unit of a written duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `us` or `µs`.
    Micros,
    /// `ms`.
    Millis,
    /// `s`.
    Seconds,
    /// `m`.
    Minutes,
    /// `h`.
    Hours,
    /// `d` (24 h).
    Days,
    /// `w` (7 d).
    Weeks,
    /// `y` (365 d, as Prometheus counts it).
    Years,
}

impl TimeUnit {
    /// Every unit, longest text first where one text starts another (`ms`
    /// before `m`).
    const TEXTS: [(&'static str, TimeUnit); 9] = [
        ("us", TimeUnit::Micros),
        ("µs", TimeUnit::Micros),
        ("ms", TimeUnit::Millis),
        ("s", TimeUnit::Seconds),
        ("m", TimeUnit::Minutes),
        ("h", TimeUnit::Hours),
        ("d", TimeUnit::Days),
        ("w", TimeUnit::Weeks),
        ("y", TimeUnit::Years),
    ];

    /// Seconds in one of this unit.
    pub fn seconds(self) -> f64 {
        match self {
            TimeUnit::Micros => 1e-6,
            TimeUnit::Millis => 1e-3,
            TimeUnit::Seconds => 1.0,
            TimeUnit::Minutes => 60.0,
            TimeUnit::Hours => 3_600.0,
            TimeUnit::Days => 86_400.0,
            TimeUnit::Weeks => 604_800.0,
            TimeUnit::Years => 31_536_000.0,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Units of a range of metrics or dashboards (`90s`, `15m`, `1h`, `7d`, `2w`).
pub const RANGE_UNITS: [TimeUnit; 5] = [
    TimeUnit::Seconds,
    TimeUnit::Minutes,
    TimeUnit::Hours,
    TimeUnit::Days,
    TimeUnit::Weeks,
];

/// Units of a trace's duration in a search (`500us`, `100ms`, `1.5s`, `2m`, `1h`).
pub const TRACE_UNITS: [TimeUnit; 5] = [
    TimeUnit::Micros,
    TimeUnit::Millis,
    TimeUnit::Seconds,
    TimeUnit::Minutes,
    TimeUnit::Hours,
];

/// Units of an Istio duration field (`250ms`, `5s`, `1m30s`, `1h`).
pub const ISTIO_UNITS: [TimeUnit; 4] = [
    TimeUnit::Millis,
    TimeUnit::Seconds,
    TimeUnit::Minutes,
    TimeUnit::Hours,
];

/// A length of time and how it was written: one or more parts, each a
/// number (digits, optionally `.` and more digits) and a unit, e.g. `1h30m`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeSpan {
    text: String,
    seconds: f64,
    parts: usize,
    whole: bool,
    units: u16,
}

impl TimeSpan {
    /// `text` (surrounding spaces ignored) as a span, or `None` when it is
    /// not one: empty, a bare number, a sign, an unknown unit, a number
    /// like `.5` or `5.`.
    pub fn parse(text: &str) -> Option<TimeSpan> {
        let trimmed = text.trim();
        let mut rest = trimmed;
        if rest.is_empty() {
            return None;
        }
        let (mut seconds, mut parts, mut whole, mut units) = (0.0, 0, true, 0u16);
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number = &rest[..digits];
            let valid = !number.is_empty()
                && !number.starts_with('.')
                && !number.ends_with('.')
                && number.matches('.').count() <= 1;
            if !valid {
                return None;
            }
            let value: f64 = number.parse().ok()?;
            rest = &rest[digits..];
            let (unit_text, unit) = TimeUnit::TEXTS
                .iter()
                .filter(|(t, _)| rest.starts_with(t))
                .max_by_key(|(t, _)| t.len())?;
            rest = &rest[unit_text.len()..];
            seconds += value * unit.seconds();
            parts += 1;
            whole &= !number.contains('.');
            units |= unit.bit();
        }
        seconds.is_finite().then(|| TimeSpan {
            text: trimmed.to_owned(),
            seconds,
            parts,
            whole,
            units,
        })
    }

    /// The span in seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// The span in milliseconds.
    pub fn millis(&self) -> f64 {
        self.seconds * 1e3
    }

    /// The span in whole microseconds (rounded).
    pub fn micros(&self) -> f64 {
        (self.seconds * 1e6).round()
    }

    /// The text it was read from (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many number-and-unit parts it was written with.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Every number in it is whole (no `.`).
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// It is written with no unit but these.
    pub fn uses_only(&self, allowed: &[TimeUnit]) -> bool {
        let allowed = allowed.iter().fold(0u16, |bits, u| bits | u.bit());
        self.units & !allowed == 0
    }

    /// A range of metrics or dashboards: one whole, positive number and one
    /// of [`RANGE_UNITS`] (`90s`, `15m`, `1h`, `7d`, `2w`).
    pub fn parse_range(text: &str) -> Option<TimeSpan> {
        TimeSpan::parse(text)
            .filter(|s| s.parts == 1 && s.whole && s.uses_only(&RANGE_UNITS) && s.seconds > 0.0)
    }
}

impl std::fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for TimeSpan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for TimeSpan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TimeSpan::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not a duration like 500ms, 5m, 1h or 7d"
            ))
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TimeSpan {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^\s*([0-9]+(\.[0-9]+)?(us|µs|ms|s|m|h|d|w|y))+\s*$"))
            .description(Some(
                "A duration: numbers with units, e.g. 500ms, 90s, 15m, 1h30m, 7d",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TimeSpan {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_every_unit_and_compound_forms() {
        let s = |t: &str| TimeSpan::parse(t).map(|s| s.seconds());
        assert_eq!(s("90s"), Some(90.0));
        assert_eq!(s("15m"), Some(900.0));
        assert_eq!(s("7d"), Some(604_800.0));
        assert_eq!(s("2w"), Some(1_209_600.0));
        assert_eq!(s("1y"), Some(31_536_000.0));
        assert_eq!(s("1m30s"), Some(90.0));
        assert_eq!(s(" 2s "), Some(2.0));
        assert_eq!(s("0s"), Some(0.0));
        let ms = |t: &str| TimeSpan::parse(t).map(|s| s.millis());
        assert_eq!(ms("250ms"), Some(250.0));
        assert_eq!(ms("1.5s"), Some(1_500.0));
        let us = |t: &str| TimeSpan::parse(t).map(|s| s.micros());
        assert_eq!(us("500us"), Some(500.0));
        assert_eq!(us("500µs"), Some(500.0));
        assert_eq!(us("100ms"), Some(100_000.0));
        for bad in [
            "",
            "5",
            "s",
            "5 s",
            "-5s",
            "5sec",
            ".5s",
            "5.s",
            "5s5",
            "1.2.3s",
            "ms",
            "10x",
            "5 parsecs",
        ] {
            assert_eq!(TimeSpan::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_use_states_its_units_and_form() {
        let span = TimeSpan::parse("1m30s").unwrap();
        assert_eq!((span.parts(), span.is_whole()), (2, true));
        assert!(span.uses_only(&ISTIO_UNITS));
        assert!(!TimeSpan::parse("1d").unwrap().uses_only(&ISTIO_UNITS));
        assert!(!TimeSpan::parse("1.5s").unwrap().is_whole());
        // Ranges: one whole, positive number of s, m, h, d or w.
        for good in ["90s", "15m", "1h", "7d", "2w"] {
            assert!(TimeSpan::parse_range(good).is_some(), "{good}");
        }
        for bad in ["", "h", "1.5h", "-1h", "0m", "10x", "1h30m", "500ms", "1y"] {
            assert_eq!(TimeSpan::parse_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn spans_are_written_back_as_read() {
        assert_eq!(TimeSpan::parse(" 1h30m ").unwrap().to_string(), "1h30m");
        let json = serde_json::to_string(&TimeSpan::parse("15m").unwrap()).unwrap();
        assert_eq!(json, "\"15m\"");
        let back: TimeSpan = serde_json::from_str(&json).unwrap();
        assert_eq!(back.seconds(), 900.0);
        let err = serde_json::from_str::<TimeSpan>("\"soon\"").unwrap_err();
        assert!(
            err.to_string().contains("\"soon\" is not a duration"),
            "{err}"
        );
    }
}
