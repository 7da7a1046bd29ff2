//! A tenant's time zone, parsed once: the one place that decides a business's local day.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// The zone every tenant starts with, and the one an unreadable stored setting falls back to.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// An IANA time zone a business keeps its days in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Zone {
    /// Reads a name typed by a person (`Asia/Shanghai`); refuses anything that is not an IANA
    /// zone.
    pub fn parse(raw: &str) -> Result<Self, crate::Issue> {
        Tz::from_str(raw.trim()).map(Self).map_err(|_| {
            crate::Issue::new(
                crate::FieldCode::NotATimeZone,
                format!("\"{raw}\" is not an IANA time zone such as Asia/Shanghai"),
            )
            .with("value", raw)
        })
    }

    /// The zone of a stored setting. Stored settings were parsed on the way in, so a name that
    /// no longer reads (a zone retired from the database) falls back to [`DEFAULT_ZONE`].
    pub fn of_setting(name: &str) -> Self {
        Self::parse(name).unwrap_or_default()
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant as a wall-clock time here.
    pub fn local(self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.0)
    }

    /// The local calendar day the instant falls on.
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        self.local(now).date_naive()
    }

    /// The first instant of a local day (the first existing one when a clock change skips
    /// midnight).
    pub fn start_of_day(self, day: NaiveDate) -> DateTime<Utc> {
        crate::points::start_of_day(self.0, day)
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self(DEFAULT_ZONE)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_local_day_turns_at_local_midnight_not_utc_midnight() {
        let z = Zone::parse("Asia/Shanghai").unwrap();
        // 16:30 UTC is 00:30 the next day in Shanghai.
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 16, 30, 0).unwrap();
        assert_eq!(z.today(at), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(
            paris.today(at),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
    }

    #[test]
    fn unknown_names_are_refused_when_typed_and_fall_back_when_stored() {
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(Zone::of_setting("Mars/Olympus"), Zone::default());
        assert_eq!(Zone::of_setting(" Europe/Paris ").name(), "Europe/Paris");
    }

    #[test]
    fn a_day_starts_at_its_local_midnight() {
        let z = Zone::parse("Asia/Shanghai").unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(
            z.start_of_day(d),
            Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap()
        );
    }
}
