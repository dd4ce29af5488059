//! The timestamp forms the auth layer reads and writes: SigV4's basic ISO 8601
//! (`20150830T123600Z`), the extended form IAM, STS and CloudTrail answer with
//! (`2015-08-30T12:36:00Z`), and what IAM's `Date*` condition operators accept.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::{Iso8601, Rfc2822, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

fn to_offset(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

/// Seconds since the Unix epoch (negative before it).
pub fn epoch_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// The instant `secs` seconds after the epoch.
pub fn from_epoch_seconds(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// `2015-08-30T12:36:00Z`: whole seconds, UTC, as CloudTrail's `eventTime` and IAM's dates.
pub fn iso8601(t: SystemTime) -> String {
    let d = to_offset(t);
    d.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// `20150830T123600Z`, SigV4's `X-Amz-Date`.
pub fn amz_date(t: SystemTime) -> String {
    to_offset(t)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default()
}

/// Parses SigV4's `X-Amz-Date` (`20150830T123600Z`).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|p| p.assume_utc().into())
}

/// Parses an HTTP `Date` header (RFC 1123/2822).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &Rfc2822).ok().map(Into::into)
}

/// Parses what IAM's `Date*` operators and CloudTrail's `StartTime` accept: ISO 8601 (with or
/// without time and offset) or epoch seconds.
pub fn parse_any(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(from_epoch_seconds(n as i64));
    }
    if let Ok(d) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(d.into());
    }
    if let Ok(d) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(d.into());
    }
    if let Ok(d) = PrimitiveDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(d.assume_utc().into());
    }
    let day = format_description!("[year]-[month]-[day]");
    time::Date::parse(s, day)
        .ok()
        .map(|d| d.midnight().assume_utc().into())
}

/// `YYYY`, `MM`, `DD`, `HH`, `mm` of an instant (CloudTrail's delivery paths).
pub fn parts(t: SystemTime) -> (i32, u8, u8, u8, u8) {
    let d = to_offset(t);
    (d.year(), d.month() as u8, d.day(), d.hour(), d.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(epoch_seconds(t), 1_440_938_160);
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(iso8601(t), "2015-08-30T12:36:00Z");
        assert_eq!(parse_any("2015-08-30T12:36:00Z"), Some(t));
        assert_eq!(parse_any("1440938160"), Some(t));
        assert_eq!(
            parse_any("2015-08-30"),
            Some(from_epoch_seconds(1_440_892_800))
        );
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(t));
        assert_eq!(parts(t), (2015, 8, 30, 12, 36));
        assert!(parse_amz_date("2015-08-30").is_none());
    }
}
