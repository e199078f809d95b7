//! Checked facts in words, for hovers and completion details: a type as it
//! is written in the schema, a schedule as "Mon–Fri 09:00–18:00
//! America/New_York", a duration in minutes as `1h30m`.

use crate::hir::{Policy, Schedule, Ty};

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A type as the schema writes it: `free | pro | enterprise`, `[string]`.
pub(crate) fn ty(policy: &Policy, ty: &Ty) -> String {
    match ty {
        Ty::Text => "text".into(),
        Ty::String => "string".into(),
        Ty::Int => "int".into(),
        Ty::Number => "number".into(),
        Ty::Bool => "bool".into(),
        Ty::Time => "time".into(),
        Ty::Duration => "duration".into(),
        Ty::Url => "url".into(),
        Ty::Enum(e) => {
            let values: Vec<&str> = policy.enum_def(*e).values.iter().map(|v| v.name.as_str()).collect();
            values.join(" | ")
        }
        Ty::List(inner) => format!("[{}]", self::ty(policy, inner)),
    }
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn intervals(day: &[(u16, u16)]) -> String {
    day.iter().map(|(from, to)| format!("{}–{}", clock(*from), clock(*to))).collect::<Vec<_>>().join(", ")
}

/// Opening hours in words: runs of days with the same hours, then the time zone.
pub(super) fn schedule(s: &Schedule) -> String {
    if s.always_open {
        return "always open (24x7)".into();
    }
    let mut parts = Vec::new();
    let mut day = 0;
    while day < 7 {
        if s.weekly[day].is_empty() {
            day += 1;
            continue;
        }
        let mut last = day;
        while last + 1 < 7 && s.weekly[last + 1] == s.weekly[day] {
            last += 1;
        }
        let days = if last == day { DAYS[day].to_string() } else { format!("{}–{}", DAYS[day], DAYS[last]) };
        parts.push(format!("{days} {}", intervals(&s.weekly[day])));
        day = last + 1;
    }
    let mut text = if parts.is_empty() { "never open".to_string() } else { parts.join(", ") };
    if let Some(tz) = &s.timezone {
        text.push(' ');
        text.push_str(tz);
    }
    match s.holidays.len() {
        0 => {}
        1 => text.push_str(", closed on 1 holiday"),
        n => text.push_str(&format!(", closed on {n} holidays")),
    }
    text
}

/// Minutes as the language writes durations: `15m`, `4h`, `1h30m`, `2d`.
pub(super) fn minutes(total: f64) -> String {
    let total = total.round() as u64;
    if total == 0 {
        return "0m".into();
    }
    let (days, rest) = (total / 1440, total % 1440);
    let (hours, mins) = (rest / 60, rest % 60);
    let mut out = String::new();
    if days > 0 {
        out.push_str(&format!("{days}d"));
    }
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if mins > 0 {
        out.push_str(&format!("{mins}m"));
    }
    out
}

/// A threshold or other fraction, without trailing zeros beyond two places.
pub(super) fn fraction(value: f64) -> String {
    format!("{value:.2}")
}
