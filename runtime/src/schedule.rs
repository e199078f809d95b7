//! Opening hours in a destination's time zone (jiff, with its bundled time
//! zone database, so results do not depend on the host), holidays, and
//! business-time arithmetic for SLAs.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use routec_compiler::hir;

/// A schedule ready for evaluation.
#[derive(Clone, Debug)]
pub struct Hours {
    always_open: bool,
    tz: TimeZone,
    weekly: [Vec<(u16, u16)>; 7],
    holidays: Vec<Date>,
}

impl Hours {
    /// Ready a schedule of the policy; an unknown time zone (the checker
    /// reported it) counts as UTC.
    pub fn new(schedule: &hir::Schedule) -> Hours {
        let tz = schedule.timezone.as_deref().and_then(|name| TimeZone::get(name).ok()).unwrap_or(TimeZone::UTC);
        Hours {
            always_open: schedule.always_open,
            tz,
            weekly: schedule.weekly.clone(),
            holidays: schedule.holidays.clone(),
        }
    }

    /// Whether the destination is open at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        if self.always_open {
            return true;
        }
        let local = now.to_zoned(self.tz.clone());
        let date = local.date();
        if self.holidays.contains(&date) {
            return false;
        }
        let day = local.weekday().to_monday_zero_offset() as usize;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.weekly[day].iter().any(|&(open, close)| open <= minute && minute < close)
    }

    /// The moment `minutes` of open time after `start`, or `None` when the
    /// schedule has no open time within a year.
    pub fn add_open_minutes(&self, start: Timestamp, minutes: f64) -> Option<Timestamp> {
        if self.always_open {
            return start.checked_add(jiff::SignedDuration::from_secs_f64(minutes * 60.0)).ok();
        }
        let local = start.to_zoned(self.tz.clone());
        let mut date = local.date();
        let mut from_minute = local.hour() as f64 * 60.0 + local.minute() as f64 + local.second() as f64 / 60.0;
        let mut remaining = minutes;
        for _ in 0..400 {
            if !self.holidays.contains(&date) {
                let day = date.weekday().to_monday_zero_offset() as usize;
                for &(open, close) in &self.weekly[day] {
                    let begin = (open as f64).max(from_minute);
                    let end = close as f64;
                    if begin >= end {
                        continue;
                    }
                    if remaining <= end - begin {
                        let at = begin + remaining;
                        return self.local_to_timestamp(date, at);
                    }
                    remaining -= end - begin;
                }
            }
            date = date.tomorrow().ok()?;
            from_minute = 0.0;
        }
        None
    }

    fn local_to_timestamp(&self, date: Date, minute_of_day: f64) -> Option<Timestamp> {
        let whole = minute_of_day.floor();
        let seconds = ((minute_of_day - whole) * 60.0).round() as i64;
        let (day_offset, whole) = if whole >= 1440.0 { (1, whole - 1440.0) } else { (0, whole) };
        let date = if day_offset == 1 { date.tomorrow().ok()? } else { date };
        let time = Time::new((whole as i64 / 60) as i8, (whole as i64 % 60) as i8, 0, 0).ok()?;
        let zoned = date.to_datetime(time).to_zoned(self.tz.clone()).ok()?;
        zoned.timestamp().checked_add(jiff::SignedDuration::from_secs(seconds)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use routec_compiler::source::Span;

    fn business() -> Hours {
        let mut weekly: [Vec<(u16, u16)>; 7] = Default::default();
        for d in weekly.iter_mut().take(5) {
            d.push((9 * 60, 18 * 60));
        }
        Hours::new(&hir::Schedule {
            name: "us".into(),
            span: Span::default(),
            always_open: false,
            timezone: Some("America/New_York".into()),
            weekly,
            holidays: vec!["2026-12-25".parse().unwrap()],
        })
    }

    #[test]
    fn open_in_local_time() {
        let h = business();
        // 15:00 UTC on a Wednesday is 10:00 in New York.
        assert!(h.is_open("2026-01-07T15:00:00Z".parse().unwrap()));
        // 03:00 New York on a Sunday.
        assert!(!h.is_open("2026-11-29T08:00:00Z".parse().unwrap()));
        // Christmas is a holiday even on a Friday.
        assert!(!h.is_open("2026-12-25T15:00:00Z".parse().unwrap()));
    }

    #[test]
    fn business_minutes_skip_nights_and_weekends() {
        let h = business();
        // Friday 17:00 NY + 2h business → Monday 10:00 NY.
        let due = h.add_open_minutes("2026-01-09T22:00:00Z".parse().unwrap(), 120.0).unwrap();
        assert_eq!(due.to_string(), "2026-01-12T15:00:00Z");
    }
}
