//! `hours::open` against a minute-by-minute check of the wall clock, in
//! weeks where clocks change (both directions, both hemispheres) and with
//! holidays and overnight hours.

use super::hours::{open, Minute};
use crate::hir::Schedule;
use jiff::tz::TimeZone;
use jiff::Timestamp;

fn schedule(zone: &str, weekly: [Vec<(u16, u16)>; 7], holidays: &[&str]) -> Schedule {
    Schedule {
        name: "s".into(),
        span: Default::default(),
        always_open: false,
        timezone: Some(zone.into()),
        weekly,
        holidays: holidays.iter().map(|d| d.parse().expect("test date")).collect(),
    }
}

/// Open at `t` by the wall clock: the local day is no holiday and the local
/// time lies in one of the day's intervals.
fn open_by_wall_clock(s: &Schedule, t: Minute) -> bool {
    let tz = TimeZone::get(s.timezone.as_deref().expect("zone")).expect("known zone");
    let local = Timestamp::from_second(t * 60).expect("in range").to_zoned(tz);
    if s.holidays.contains(&local.date()) {
        return false;
    }
    let day = local.date().weekday().to_monday_zero_offset() as usize;
    let minute = local.hour() as u16 * 60 + local.minute() as u16;
    s.weekly[day].iter().any(|&(o, c)| o <= minute && minute < c)
}

fn minute(at: &str) -> Minute {
    at.parse::<Timestamp>().expect("test time").as_second() / 60
}

fn agree(s: &Schedule, from: &str, days: i64) {
    let start = minute(from);
    let range = (start, start + days * 1440);
    let intervals = open(s, range);
    for t in (range.0..range.1).step_by(5) {
        let by_intervals = intervals.0.iter().any(|&(a, b)| a <= t && t < b);
        assert_eq!(by_intervals, open_by_wall_clock(s, t), "{:?} at minute {t} ({})", s.timezone, t - start);
    }
}

#[test]
fn opening_hours_follow_the_wall_clock_across_clock_changes() {
    // Hours around the changes themselves: 01:00–03:00 is skipped or repeated.
    let night = |d: usize| if d < 5 { vec![(60, 150), (540, 1020)] } else { vec![(0, 1440)] };
    for zone in ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"] {
        let s = schedule(zone, std::array::from_fn(night), &["2026-03-09", "2026-10-26"]);
        agree(&s, "2026-03-05T00:00:00Z", 10); // US spring forward
        agree(&s, "2026-03-26T00:00:00Z", 8); // EU spring forward
        agree(&s, "2026-04-02T00:00:00Z", 8); // Sydney falls back
        agree(&s, "2026-10-01T00:00:00Z", 8); // Sydney springs forward
        agree(&s, "2026-10-22T00:00:00Z", 14); // EU and US fall back
    }
}

#[test]
fn overnight_hours_and_holidays() {
    // Fri 22:00 until Sat 02:00 is stored as two days, as the checker does.
    let mut weekly: [Vec<(u16, u16)>; 7] = Default::default();
    weekly[4] = vec![(1320, 1440)];
    weekly[5] = vec![(0, 120)];
    let s = schedule("Europe/London", weekly, &["2026-10-24"]);
    agree(&s, "2026-10-19T00:00:00Z", 14);
}
