//! Opening hours on the real timeline, for the coverage check: which weeks
//! to examine, when a schedule is open inside one (time zones, daylight-saving
//! changes and holidays included), interval arithmetic over minutes, and how
//! to show a closed window to a person ("Sun 00:00–08:00 America/New_York").
//!
//! Time is minutes since the Unix epoch, UTC. Rather than walking minutes,
//! each schedule becomes a list of open intervals, and closed-ness is
//! computed with interval intersections and complements. A schedule is open
//! when the wall clock in its zone shows a time inside the day's hours on a
//! day that is not a holiday; the intervals follow that exactly across
//! offset changes (see [`open`]).
//!
//! The weeks examined: one ordinary week in each stretch of the year in
//! which no used time zone changes its offset, every week that contains such
//! a change, and every week that contains a holiday. The year is
//! [`REFERENCE_YEAR`] plus the years holidays name: daylight-saving rules
//! repeat yearly, and a fixed year keeps `routec check` output the same
//! whatever day it runs.

use crate::hir::{Policy, Schedule};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub(crate) type Minute = i64;

pub(crate) const DAY: Minute = 1440;
pub(crate) const WEEK: Minute = 7 * DAY;
/// The year examined when holidays name none.
pub(crate) const REFERENCE_YEAR: i16 = 2026;
/// Bounds on the work: years scanned for offset changes, weeks examined.
const MAX_YEARS: usize = 3;
const MAX_WEEKS: usize = 80;

/// Sorted, disjoint, non-touching half-open intervals of minutes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Intervals(pub Vec<(Minute, Minute)>);

impl Intervals {
    pub(crate) fn from_unsorted(mut parts: Vec<(Minute, Minute)>) -> Intervals {
        parts.retain(|(a, b)| a < b);
        parts.sort_unstable();
        let mut out: Vec<(Minute, Minute)> = Vec::with_capacity(parts.len());
        for (a, b) in parts {
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Intervals(out)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn intersect(&self, other: &Intervals) -> Intervals {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = self.0[i];
            let (c, d) = other.0[j];
            let (lo, hi) = (a.max(c), b.min(d));
            if lo < hi {
                out.push((lo, hi));
            }
            if b < d {
                i += 1;
            } else {
                j += 1;
            }
        }
        Intervals(out)
    }

    /// The minutes of `range` not in `self`.
    pub(crate) fn complement(&self, range: (Minute, Minute)) -> Intervals {
        let mut out = Vec::new();
        let mut at = range.0;
        for &(a, b) in &self.0 {
            if a > at {
                out.push((at, a.min(range.1)));
            }
            at = at.max(b);
        }
        if at < range.1 {
            out.push((at, range.1));
        }
        Intervals::from_unsorted(out)
    }
}

/// Part of a year without offset changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stretch {
    pub from: Option<Minute>,
    pub to: Option<Minute>,
}

impl Stretch {
    fn contains(&self, minute: Minute) -> bool {
        self.from.is_none_or(|a| minute >= a) && self.to.is_none_or(|b| minute < b)
    }
}

/// A week the coverage check examines.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Week {
    /// Monday 00:00 UTC.
    pub start: Minute,
    /// For an ordinary week, the stretch of the year without offset changes
    /// it stands for (every week of it but holiday weeks looks the same);
    /// `None` ends are the start and end of the year.
    pub stretch: Option<Stretch>,
}

impl Week {
    /// The span computed around the week, so windows that start in it can be
    /// followed past its end and windows that began before it recognised.
    pub(crate) fn range(&self) -> (Minute, Minute) {
        (self.start - WEEK, self.start + 2 * WEEK)
    }
}

fn minute_of(ts: Timestamp) -> Minute {
    ts.as_second().div_euclid(60)
}

fn timestamp_of(minute: Minute) -> Option<Timestamp> {
    Timestamp::from_second(minute.checked_mul(60)?).ok()
}

/// Monday 00:00 UTC of the week that contains `minute`.
fn monday_of(minute: Minute) -> Minute {
    let days = minute.div_euclid(DAY);
    // 1970-01-01 was a Thursday: three days after a Monday.
    (days - (days + 3).rem_euclid(7)) * DAY
}

fn zone(schedule: &Schedule) -> TimeZone {
    schedule.timezone.as_deref().and_then(|name| TimeZone::get(name).ok()).unwrap_or(TimeZone::UTC)
}

fn start_of_year(year: i16) -> Option<Minute> {
    Some(minute_of(Date::new(year, 1, 1).ok()?.to_zoned(TimeZone::UTC).ok()?.timestamp()))
}

/// The weeks to examine for the schedules in `used`.
pub(crate) fn weeks(policy: &Policy, used: &[bool]) -> Vec<Week> {
    let schedules: Vec<&Schedule> = policy.schedules.iter().zip(used).filter(|(_, u)| **u).map(|(s, _)| s).collect();
    let holidays: Vec<Date> = schedules.iter().flat_map(|s| s.holidays.iter().copied()).collect();
    let mut years: Vec<i16> = holidays.iter().map(|d| d.year()).collect();
    years.push(REFERENCE_YEAR);
    years.sort_unstable();
    years.dedup();
    years.truncate(MAX_YEARS);
    let holiday_minutes: Vec<Minute> =
        holidays.iter().filter_map(|d| d.to_zoned(TimeZone::UTC).ok()).map(|z| minute_of(z.timestamp())).collect();
    let near_holiday = |start: Minute| holiday_minutes.iter().any(|h| *h > start - 2 * DAY && *h < start + WEEK + DAY);

    let mut out: Vec<Week> = Vec::new();
    let push = |week: Week, out: &mut Vec<Week>| {
        if out.len() < MAX_WEEKS && !out.iter().any(|w| w.start == week.start) {
            out.push(week);
        }
    };
    for year in years {
        let (Some(first), Some(next)) = (start_of_year(year), start_of_year(year + 1)) else { continue };
        let mut changes: Vec<Minute> = Vec::new();
        for s in &schedules {
            let tz = zone(s);
            let Some(from) = timestamp_of(first) else { continue };
            for t in tz.following(from) {
                let m = minute_of(t.timestamp());
                if m >= next {
                    break;
                }
                changes.push(m);
            }
        }
        changes.sort_unstable();
        changes.dedup();
        // One ordinary week per stretch without offset changes.
        let mut bounds = vec![first];
        bounds.extend(&changes);
        bounds.push(next);
        for stretch in bounds.windows(2) {
            let mut start = monday_of(stretch[0]) + WEEK;
            while start + WEEK <= stretch[1] {
                if !near_holiday(start) {
                    let from = (stretch[0] != first).then_some(stretch[0]);
                    let to = (stretch[1] != next).then_some(stretch[1]);
                    push(Week { start, stretch: Some(Stretch { from, to }) }, &mut out);
                    break;
                }
                start += WEEK;
            }
        }
        for m in changes {
            push(Week { start: monday_of(m), stretch: None }, &mut out);
        }
    }
    for h in holiday_minutes {
        push(Week { start: monday_of(h), stretch: None }, &mut out);
    }
    out.sort_by_key(|w| w.start);
    out
}

/// Stretches of `range` over which `tz` keeps one UTC offset: (start, end, offset in minutes).
fn segments(tz: &TimeZone, range: (Minute, Minute)) -> Vec<(Minute, Minute, Minute)> {
    let Some(start) = timestamp_of(range.0) else { return Vec::new() };
    let mut out = Vec::new();
    let mut at = range.0;
    let mut offset = (tz.to_offset(start).seconds() / 60) as Minute;
    for t in tz.following(start) {
        let m = minute_of(t.timestamp());
        if m >= range.1 {
            break;
        }
        out.push((at, m, offset));
        at = m;
        offset = (t.offset().seconds() / 60) as Minute;
    }
    out.push((at, range.1, offset));
    out
}

/// When `schedule` is open within `range`: the instants whose wall-clock
/// time in the schedule's zone falls inside the hours of a day that is not a
/// holiday. Exact across offset changes: an opening time that the clocks
/// skip opens when they jump past it, and an hour the clocks repeat is open
/// (or closed) both times.
pub(crate) fn open(schedule: &Schedule, range: (Minute, Minute)) -> Intervals {
    if schedule.always_open && schedule.holidays.is_empty() {
        return Intervals(vec![range]);
    }
    let tz = zone(schedule);
    let local_date = |m: Minute| timestamp_of(m).map(|t| t.to_zoned(tz.clone()).date());
    let (Some(first), Some(last)) = (local_date(range.0), local_date(range.1)) else { return Intervals::default() };
    let whole_days: [Vec<(u16, u16)>; 7] = std::array::from_fn(|_| vec![(0, 1440)]);
    let weekly = if schedule.always_open { &whole_days } else { &schedule.weekly };
    let segments = segments(&tz, range);
    // Local wall-clock time as minutes since 1970-01-01T00:00 on the same clock.
    let wall = |date: Date| date.to_zoned(TimeZone::UTC).ok().map(|z| minute_of(z.timestamp()));
    let mut parts = Vec::new();
    let mut date = first.yesterday().unwrap_or(first);
    let stop = last.tomorrow().unwrap_or(last);
    while date <= stop {
        if let (false, Some(midnight)) = (schedule.holidays.contains(&date), wall(date)) {
            let day = date.weekday().to_monday_zero_offset() as usize;
            for &(o, c) in &weekly[day] {
                let (from, to) = (midnight + o as Minute, midnight + c as Minute);
                for &(s, e, offset) in &segments {
                    parts.push(((from - offset).max(s), (to - offset).min(e)));
                }
            }
        }
        let Ok(next) = date.tomorrow() else { break };
        date = next;
    }
    Intervals::from_unsorted(parts)
}

/// A closed window as a person reads it, in the display time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Window {
    /// Weekday (0 = Monday) and minute of day the window opens, local.
    start_day: u8,
    start: u16,
    /// Days from the start day to the end day, and minute of day it ends.
    days: u8,
    end: u16,
    whole_week: bool,
    date: Option<Date>,
}

impl Window {
    /// Same weekly shape, whatever the date.
    fn same(&self, other: &Window) -> bool {
        self.whole_week == other.whole_week
            && self.start_day == other.start_day
            && self.start == other.start
            && self.days == other.days
            && self.end == other.end
    }
}

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn local(tz: &TimeZone, minute: Minute) -> Option<DateTime> {
    Some(timestamp_of(minute)?.to_zoned(tz.clone()).datetime())
}

fn local_date(tz: &TimeZone, minute: Minute) -> Option<Date> {
    local(tz, minute).map(|d| d.date())
}

fn window(tz: &TimeZone, a: Minute, b: Minute, week: &Week) -> Option<Window> {
    if a <= week.start && b >= week.start + WEEK {
        return Some(Window {
            start_day: 0,
            start: 0,
            days: 0,
            end: 0,
            whole_week: true,
            date: local_date(tz, week.start),
        });
    }
    let (s, mut e) = (local(tz, a)?, local(tz, b)?);
    let mut end = (e.hour() as u16) * 60 + e.minute() as u16;
    // A window ending at midnight reads "–24:00" on the day before.
    if end == 0 && e.date() > s.date() {
        e = e.checked_sub(jiff::Span::new().days(1)).ok()?;
        end = 1440;
    }
    let days = (e.date() - s.date()).get_days().clamp(0, 250) as u8;
    Some(Window {
        start_day: s.date().weekday().to_monday_zero_offset() as u8,
        start: (s.hour() as u16) * 60 + s.minute() as u16,
        days,
        end,
        whole_week: false,
        date: Some(s.date()),
    })
}

/// "Sat 00:00–Mon 09:00", "Mon–Thu 17:00–09:00 next day", "daily 19:00–20:00".
fn show(w: &Window, last_day: u8) -> String {
    if w.whole_week {
        return "all week".into();
    }
    let first = DAY_NAMES[w.start_day as usize % 7];
    let days = match last_day.saturating_sub(w.start_day) {
        0 => first.to_string(),
        6 => "daily".to_string(),
        _ => format!("{first}–{}", DAY_NAMES[last_day as usize % 7]),
    };
    match w.days {
        0 => format!("{days} {}–{}", hhmm(w.start), hhmm(w.end)),
        1 if last_day != w.start_day => format!("{days} {}–{} next day", hhmm(w.start), hhmm(w.end)),
        n => format!("{days} {}–{} {}", hhmm(w.start), DAY_NAMES[(w.start_day as usize + n as usize) % 7], hhmm(w.end)),
    }
}

/// Weekly windows with consecutive days of the same hours joined into one line.
fn grouped(mut windows: Vec<Window>) -> Vec<String> {
    windows.sort_by_key(|w| (w.start_day, w.start));
    let mut out = Vec::new();
    let mut i = 0;
    while i < windows.len() {
        let mut j = i;
        while j + 1 < windows.len()
            && windows[j + 1].start_day == windows[j].start_day + 1
            && windows[j + 1].start == windows[i].start
            && windows[j + 1].end == windows[i].end
            && windows[j + 1].days == windows[i].days
            && windows[i].days <= 1
            && !windows[i].whole_week
        {
            j += 1;
        }
        out.push(show(&windows[i], windows[j].start_day));
        i = j + 1;
    }
    out
}

/// Windows joined in one group before ", …".
const SHOWN_PER_GROUP: usize = 3;

fn join_windows(texts: &[String]) -> String {
    let mut out = texts.iter().take(SHOWN_PER_GROUP).cloned().collect::<Vec<_>>().join(", ");
    if texts.len() > SHOWN_PER_GROUP {
        out.push_str(", …");
    }
    out
}

/// Describe closed minutes found in the examined weeks, one line per group:
/// windows of every ordinary week as weekly windows ("Mon–Thu 17:00–09:00
/// next day, Fri 17:00–Mon 09:00 America/New_York"), then windows of some
/// ordinary weeks with the season they apply in (daylight saving), then the
/// rest (holidays, the days clocks change) with their dates.
pub(crate) fn describe(tz_name: Option<&str>, found: &[(Week, Intervals)]) -> Vec<String> {
    let tz = tz_name.and_then(|n| TimeZone::get(n).ok()).unwrap_or(TimeZone::UTC);
    let zone = tz_name.unwrap_or("UTC");
    let date_of = |m: Option<Minute>| m.and_then(|m| local_date(&tz, m)).map(|d| d.to_string());
    let mut per_week: Vec<(&Week, Vec<(Minute, Window)>)> = Vec::new();
    for (week, closed) in found {
        let mut windows = Vec::new();
        for &(a, b) in &closed.0 {
            let starts_inside = a >= week.start && a < week.start + WEEK;
            if starts_inside || (a <= week.start && b >= week.start + WEEK) {
                windows.extend(window(&tz, a, b, week).map(|w| (a.max(week.start), w)));
            }
        }
        per_week.push((week, windows));
    }
    let n_ordinary = per_week.iter().filter(|(w, _)| w.stretch.is_some()).count();
    // Weekly shapes, each with the stretches of the ordinary weeks it shows up in.
    let mut shapes: Vec<(Window, Vec<Stretch>)> = Vec::new();
    for (week, windows) in &per_week {
        let Some(stretch) = week.stretch else { continue };
        for (_, w) in windows {
            match shapes.iter_mut().find(|(x, _)| x.same(w)) {
                Some((_, stretches)) => {
                    if !stretches.contains(&stretch) {
                        stretches.push(stretch);
                    }
                }
                None => shapes.push((w.clone(), vec![stretch])),
            }
        }
    }
    let mut out = Vec::new();
    let always: Vec<Window> = shapes.iter().filter(|(_, s)| s.len() == n_ordinary).map(|(w, _)| w.clone()).collect();
    if !always.is_empty() {
        out.push(format!("{} {zone}", join_windows(&grouped(always))));
    }
    let mut seasons: Vec<(Vec<Stretch>, Vec<Window>)> = Vec::new();
    for (w, stretches) in shapes.iter().filter(|(_, s)| s.len() < n_ordinary) {
        match seasons.iter_mut().find(|(s, _)| s == stretches) {
            Some((_, ws)) => ws.push(w.clone()),
            None => seasons.push((stretches.clone(), vec![w.clone()])),
        }
    }
    for (mut stretches, windows) in seasons {
        // Stretches that meet (two zones changing on different days) read as one.
        stretches.sort_by_key(|s| s.from);
        let mut merged: Vec<Stretch> = Vec::new();
        for s in stretches {
            match merged.last_mut() {
                Some(last) if last.to.is_some() && last.to == s.from => last.to = s.to,
                _ => merged.push(s),
            }
        }
        let when: Vec<String> = merged
            .iter()
            .map(|s| match (date_of(s.from), date_of(s.to)) {
                (None, Some(b)) => format!("until {b}"),
                (Some(a), None) => format!("from {a}"),
                (Some(a), Some(b)) => format!("from {a} to {b}"),
                (None, None) => "all year".into(),
            })
            .collect();
        out.push(format!("{} {zone} {}", join_windows(&grouped(windows)), when.join(" and ")));
    }
    // The rest: windows not explained by the season they fall in, with dates;
    // the same hours on consecutive days read as one run.
    let mut dated: Vec<(Date, Window)> = Vec::new();
    for (week, windows) in &per_week {
        if week.stretch.is_some() {
            continue;
        }
        for (at, w) in windows {
            let explained = shapes.iter().any(|(x, stretches)| x.same(w) && stretches.iter().any(|s| s.contains(*at)));
            if explained {
                continue;
            }
            let Some(date) = w.date else { continue };
            if !dated.iter().any(|(d, x)| *d == date && x.same(w)) {
                dated.push((date, w.clone()));
            }
        }
    }
    dated.sort_by_key(|(d, w)| (*d, w.start));
    let mut i = 0;
    while i < dated.len() {
        let (first, w) = &dated[i];
        let mut j = i;
        while let Some((next, x)) = dated.get(j + 1) {
            let consecutive = dated[j].0.tomorrow().ok() == Some(*next);
            if !(consecutive && x.start == w.start && x.end == w.end && x.days == w.days && w.days == 0) {
                break;
            }
            j += 1;
        }
        let text = if w.whole_week {
            format!("all week from {first} {zone}")
        } else if j > i {
            format!("daily {}–{} {zone} from {first} to {}", hhmm(w.start), hhmm(w.end), dated[j].0)
        } else {
            let text = show(w, w.start_day);
            let (day, rest) = text.split_once(' ').unwrap_or((text.as_str(), ""));
            format!("{day} {first} {rest} {zone}")
        };
        out.push(text);
        i = j + 1;
    }
    out
}
