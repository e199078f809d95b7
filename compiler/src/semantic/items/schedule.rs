//! Schedules: time zones, holidays and opening hours (`mon-fri 09:00-17:00`,
//! overnight ranges, `24x7`).

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::{hir, suggest, Checker};
use crate::syntax::ast;

const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun", "daily"];

impl Checker<'_> {
    pub(in crate::semantic) fn schedules(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        for (_, item) in items {
            let ast::ItemKind::Schedule(s) = &item.kind else { continue };
            let Some(&id) = self.schedule_ids.get(&s.name.name) else { continue };
            if self.policy.schedules[id.index()].span != s.name.span {
                continue; // a duplicate, already reported
            }
            let mut schedule = self.policy.schedules[id.index()].clone();
            let mut has_hours = false;
            for entry in &s.entries {
                match entry {
                    ast::ScheduleEntry::TimeZone(tz) => {
                        if schedule.timezone.is_some() {
                            self.error(
                                Diagnostic::error(Code::BadSchedule, "the schedule has two time zones")
                                    .primary(tz.span, "second `timezone`")
                                    .help("keep one `timezone` per schedule"),
                            );
                        } else if jiff::tz::TimeZone::get(&tz.value).is_err() {
                            let known: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
                            let close =
                                suggest::closest(&tz.value, known.iter().map(String::as_str)).map(str::to_string);
                            let shown = crate::diagnostic::elide(&tz.value, 64);
                            let hint = if let Some(c) = &close {
                                format!("did you mean \"{c}\"?")
                            } else if tz.value.contains('/') {
                                "use an IANA name such as \"America/New_York\" or \"Europe/Berlin\"".to_string()
                            } else {
                                format!(
                                    "use an IANA name such as \"Europe/Berlin\", not an abbreviation like \"{shown}\""
                                )
                            };
                            self.error(
                                Diagnostic::error(Code::BadSchedule, format!("unknown time zone `{shown}`"))
                                    .primary(tz.span, "not in the time zone database")
                                    .help(hint),
                            );
                        } else if let Some(zone) = abbreviation_zone(&tz.value) {
                            self.error(
                                Diagnostic::error(
                                    Code::BadSchedule,
                                    format!("`{}` is an abbreviation, not a place's time zone", tz.value),
                                )
                                .primary(tz.span, "its offset or rules are not those of any place today")
                                .help(format!("use an IANA name such as \"{zone}\""))
                                .suggest(format!("\"{zone}\"")),
                            );
                        } else {
                            schedule.timezone = Some(tz.value.clone());
                        }
                    }
                    ast::ScheduleEntry::AlwaysOpen(_) => schedule.always_open = true,
                    ast::ScheduleEntry::Holidays(dates) => {
                        for d in dates {
                            match d.value.parse::<jiff::civil::Date>() {
                                Ok(date) => schedule.holidays.push(date),
                                Err(_) => self.error(
                                    Diagnostic::error(Code::BadSchedule, format!("`{}` is not a date", d.value))
                                        .primary(d.span, "expected YYYY-MM-DD")
                                        .help("write holidays as dates, e.g. \"2026-12-25\""),
                                ),
                            }
                        }
                    }
                    ast::ScheduleEntry::Hours(line) => {
                        has_hours = true;
                        self.hours_line(line, &mut schedule);
                    }
                }
            }
            if schedule.always_open && has_hours {
                self.error(
                    Diagnostic::error(Code::BadSchedule, "a `24x7` schedule cannot also list hours")
                        .primary(s.name.span, "both `24x7` and opening hours")
                        .help("remove `24x7` or the hours"),
                );
            }
            if !schedule.always_open && !has_hours {
                self.error(
                    Diagnostic::error(Code::BadSchedule, format!("schedule `{}` is never open", s.name.name))
                        .primary(s.name.span, "no opening hours")
                        .help("add hours like `mon-fri 09:00-17:00`, or write `24x7`"),
                );
            }
            if has_hours
                && schedule.timezone.is_none()
                && !s.entries.iter().any(|e| matches!(e, ast::ScheduleEntry::TimeZone(_)))
            {
                self.error(
                    Diagnostic::error(
                        Code::BadSchedule,
                        format!("schedule `{}` has hours but no time zone", s.name.name),
                    )
                    .primary(s.name.span, "which time zone are these hours in?")
                    .help("add `timezone \"America/New_York\"` (an IANA name)"),
                );
            }
            for day in schedule.weekly.iter_mut() {
                day.sort_unstable();
            }
            self.policy.schedules[id.index()] = schedule;
        }
    }

    fn hours_line(&mut self, line: &ast::HoursLine, schedule: &mut hir::Schedule) {
        let mut days = Vec::new();
        for range in &line.days {
            let Some(from) = self.day(&range.from) else { continue };
            match &range.to {
                None if from == 7 => days.extend(0..7),
                None => days.push(from),
                Some(to_ident) => {
                    let Some(to) = self.day(to_ident) else { continue };
                    if from == 7 || to == 7 {
                        self.error(
                            Diagnostic::error(Code::BadSchedule, "`daily` cannot be part of a range")
                                .primary(range.span, "a range of days is written `mon-fri`")
                                .help("write `daily` alone"),
                        );
                        continue;
                    }
                    let mut d = from;
                    loop {
                        days.push(d);
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
            }
        }
        for t in &line.times {
            let (Some(open), Some(close)) = (self.clock(&t.from), self.clock(&t.to)) else { continue };
            if open == close {
                self.error(
                    Diagnostic::error(Code::BadSchedule, "opening hours of zero length")
                        .primary(t.span, "opens and closes at the same time")
                        .help("for a whole day write `00:00-24:00`"),
                );
                continue;
            }
            for &d in &days {
                if open < close {
                    schedule.weekly[d].push((open, close));
                } else {
                    // Overnight: open until midnight, then from midnight on the next day.
                    schedule.weekly[d].push((open, 1440));
                    if close > 0 {
                        schedule.weekly[(d + 1) % 7].push((0, close));
                    }
                }
            }
        }
    }

    fn day(&mut self, ident: &ast::Ident) -> Option<usize> {
        if let Some(i) = DAYS.iter().position(|d| *d == ident.name.to_lowercase()) {
            return Some(i);
        }
        let d = Diagnostic::error(Code::BadSchedule, format!("`{}` is not a day", ident.name))
            .primary(ident.span, "expected mon, tue, wed, thu, fri, sat, sun or daily")
            .did_you_mean("day", &ident.name, DAYS);
        self.error(d);
        None
    }

    fn clock(&mut self, lit: &ast::StrLit) -> Option<u16> {
        let parsed = lit.value.split_once(':').and_then(|(h, m)| {
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let h: u16 = h.parse().ok()?;
            let m: u16 = m.parse().ok()?;
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        });
        if parsed.is_none() {
            self.error(
                Diagnostic::error(Code::BadSchedule, format!("`{}` is not a time of day", lit.value))
                    .primary(lit.span, "expected HH:MM between 00:00 and 24:00")
                    .help("write times as two-digit hours and minutes, e.g. `09:00-17:30`"),
            );
        }
        parsed
    }
}

/// The place to suggest for a zone name the database keeps only for old
/// compatibility: `EST`, `MST` and `HST` are fixed offsets (`EST` is an hour
/// off in New York all summer), the others rules no place follows as such.
fn abbreviation_zone(name: &str) -> Option<&'static str> {
    Some(match name {
        "EST" | "EST5EDT" => "America/New_York",
        "CST6CDT" => "America/Chicago",
        "MST" | "MST7MDT" => "America/Denver",
        "PST8PDT" => "America/Los_Angeles",
        "HST" => "Pacific/Honolulu",
        "CET" | "MET" => "Europe/Berlin",
        "EET" => "Europe/Athens",
        "WET" => "Europe/Lisbon",
        _ => return None,
    })
}
