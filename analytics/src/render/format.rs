//! How a value reads to people, shared by the terminal and HTML renderers:
//! counts with thousands separators, ratios as percentages, durations in
//! the two largest units. JSON keeps the raw numbers.

use super::{Cell, Unit};

/// A cell as text for people, according to its unit (an empty cell is `–`).
pub fn format_value(cell: &Cell, unit: Unit) -> String {
    match cell {
        Cell::Empty => "–".to_owned(),
        Cell::Text(text) => text.clone(),
        Cell::Int(value) => match unit {
            Unit::Count | Unit::Number | Unit::Text => group_thousands(*value),
            Unit::Ratio | Unit::Seconds => format_number(*value as f64, unit),
        },
        Cell::Float(value) => format_number(*value, unit),
    }
}

/// A number as text for people, according to its unit.
pub fn format_number(value: f64, unit: Unit) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    match unit {
        Unit::Ratio => format_percent(value),
        Unit::Seconds => format_duration(value),
        Unit::Count if value.fract() == 0.0 && value.abs() < 9.0e15 => group_thousands(value as i64),
        Unit::Count | Unit::Number | Unit::Text => format_decimal(value),
    }
}

/// `0.1234` → `12.3%`; small non-zero ratios keep two decimals (`0.04%`).
fn format_percent(ratio: f64) -> String {
    let percent = ratio * 100.0;
    if percent != 0.0 && percent.abs() < 0.1 {
        format!("{percent:.2}%")
    } else {
        format!("{percent:.1}%")
    }
}

/// Seconds in the two largest units: `45s`, `12m 05s`, `3h 05m`, `2d 04h`.
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "–".to_owned();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let total = seconds.abs().round();
    if total < 60.0 {
        return format!("{sign}{total:.0}s");
    }
    // Below 2^53 seconds (285 million years) the conversion is exact.
    let total = total.min(9.0e15) as u64;
    let (days, hours, minutes, secs) = (total / 86_400, total / 3_600 % 24, total / 60 % 60, total % 60);
    if days > 0 {
        format!("{sign}{days}d {hours:02}h")
    } else if hours > 0 {
        format!("{sign}{hours}h {minutes:02}m")
    } else {
        format!("{sign}{minutes}m {secs:02}s")
    }
}

/// Up to two decimals, trailing zeros dropped, thousands grouped.
fn format_decimal(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text.split_once('.') {
        Some((whole, fraction)) => match whole.parse::<i64>() {
            Ok(whole_value) if whole != "-0" => format!("{}.{fraction}", group_thousands(whole_value)),
            _ => text.to_owned(),
        },
        None => text.parse::<i64>().map_or_else(|_| text.to_owned(), group_thousands),
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        grouped.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(-1_234_567), "-1,234,567");
        assert_eq!(format_value(&Cell::Int(12_345), Unit::Count), "12,345");
        assert_eq!(format_number(2_000.0, Unit::Count), "2,000");
        assert_eq!(format_number(2.5, Unit::Count), "2.5");
    }

    #[test]
    fn ratios_read_as_percentages() {
        assert_eq!(format_number(0.125, Unit::Ratio), "12.5%");
        assert_eq!(format_number(1.0, Unit::Ratio), "100.0%");
        assert_eq!(format_number(0.0, Unit::Ratio), "0.0%");
        assert_eq!(format_number(0.0004, Unit::Ratio), "0.04%");
    }

    #[test]
    fn durations_use_the_two_largest_units() {
        assert_eq!(format_duration(45.2), "45s");
        assert_eq!(format_duration(725.0), "12m 05s");
        assert_eq!(format_duration(3.0 * 3600.0 + 5.0 * 60.0), "3h 05m");
        assert_eq!(format_duration(2.0 * 86_400.0 + 4.0 * 3600.0 + 59.0), "2d 04h");
        assert_eq!(format_duration(-90.0), "-1m 30s");
        assert_eq!(format_duration(f64::NAN), "–");
    }

    #[test]
    fn other_numbers_keep_two_decimals_at_most() {
        assert_eq!(format_number(3.14159, Unit::Number), "3.14");
        assert_eq!(format_number(2.0, Unit::Number), "2");
        assert_eq!(format_number(1234.5, Unit::Number), "1,234.5");
        assert_eq!(format_number(-0.5, Unit::Number), "-0.5");
        assert_eq!(format_value(&Cell::Empty, Unit::Number), "–");
        assert_eq!(format_value(&Cell::Text("billing".into()), Unit::Text), "billing");
    }
}
