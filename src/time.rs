//! Timestamps as the wire carries them: RFC 3339 with nanoseconds in UTC, stored as
//! unix nanoseconds. Go's zero time (`0001-01-01T00:00:00Z`) stands for "not set".

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// A point in time on the wire.
pub type Time = DateTime<Utc>;

/// The current time.
pub fn now() -> Time {
    Utc::now()
}

/// Go's zero `time.Time`, which Bacalhau emits for unset times.
pub fn zero() -> Time {
    Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0)
        .single()
        .expect("valid zero time")
}

/// Unix nanoseconds of `t` (saturating outside the i64 range).
pub fn to_nanos(t: Time) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The time at unix nanoseconds `ns`.
pub fn from_nanos(ns: i64) -> Time {
    Utc.timestamp_nanos(ns)
}

/// Formats `t` as RFC 3339 with nine fractional digits and a `Z`.
pub fn format(t: &Time) -> String {
    if *t == zero() {
        return "0001-01-01T00:00:00Z".to_owned();
    }
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Serde adapter: RFC 3339 nanoseconds out, any RFC 3339 in.
pub mod rfc3339 {
    use super::*;

    /// Serializes a time as RFC 3339 with nanoseconds.
    pub fn serialize<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// Deserializes any RFC 3339 time; absent or empty means the zero time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        if s.is_empty() {
            return Ok(zero());
        }
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for optional times (absent when `None`).
pub mod rfc3339_opt {
    use super::*;

    /// Serializes `Some(t)` as RFC 3339 with nanoseconds.
    pub fn serialize<S: Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(t)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes an optional RFC 3339 time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(&s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanos_round_trip_keeps_every_digit() {
        let t = from_nanos(1_767_225_600_000_000_123);
        assert_eq!(format(&t), "2026-01-01T00:00:00.000000123Z");
        assert_eq!(to_nanos(t), 1_767_225_600_000_000_123);
    }

    #[test]
    fn zero_time_prints_like_go() {
        assert_eq!(format(&zero()), "0001-01-01T00:00:00Z");
    }
}
