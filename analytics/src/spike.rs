//! When a count is a spike: the one rule `routec report` flags past hours
//! with and `routec serve` watches live intents with. An hour's count is
//! compared with the same hour of the previous weeks (same weekday, same
//! hour), so a Monday-morning peak is not a spike but twice the usual
//! Monday morning is.
//!
//! The rule, written down in `docs/analytics.md`: a spike is an hour with at
//! least [`SpikeRule::min_count`] tickets and at least
//! [`SpikeRule::factor`] times the baseline, the mean of the same hour in up
//! to [`SpikeRule::weeks`] previous weeks (a baseline below 1 counts as 1,
//! so that one ticket where there were none is not a spike); with no
//! previous week seen, nothing is a spike.

use serde::Serialize;

/// Hours in a week: the distance between an hour and the same hour a week
/// earlier.
pub const HOURS_PER_WEEK: i64 = 7 * 24;

/// The thresholds of a spike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpikeRule {
    /// Fewest tickets in the hour.
    pub min_count: u64,
    /// Smallest ratio of the count to the baseline.
    pub factor: f64,
    /// Previous weeks averaged into the baseline, at most.
    pub weeks: usize,
}

impl Default for SpikeRule {
    fn default() -> SpikeRule {
        SpikeRule { min_count: 5, factor: 3.0, weeks: 4 }
    }
}

/// One hour judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Verdict {
    /// Tickets in the hour.
    pub count: u64,
    /// Mean of the same hour in the previous weeks seen.
    pub baseline: f64,
    /// Previous weeks the baseline averages.
    pub weeks_seen: usize,
    /// `count / max(baseline, 1)`.
    pub ratio: f64,
    /// Whether the hour is a spike under the rule.
    pub spike: bool,
}

impl SpikeRule {
    /// Judges `count` against `previous`, the same hour in earlier weeks,
    /// most recent first (only the first [`SpikeRule::weeks`] count).
    pub fn judge(&self, count: u64, previous: &[u64]) -> Verdict {
        let seen = &previous[..previous.len().min(self.weeks)];
        let baseline = if seen.is_empty() { 0.0 } else { seen.iter().sum::<u64>() as f64 / seen.len() as f64 };
        let ratio = count as f64 / baseline.max(1.0);
        let spike = !seen.is_empty() && count >= self.min_count && ratio >= self.factor;
        Verdict { count, baseline, weeks_seen: seen.len(), ratio, spike }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_needs_volume_history_and_a_ratio() {
        let rule = SpikeRule::default();
        // Three times the usual, and at least five tickets.
        assert!(rule.judge(12, &[4, 4, 4, 4]).spike);
        assert!(!rule.judge(11, &[4, 4, 4, 4]).spike);
        // A quiet hour: one ticket where there were none is no spike, five are.
        assert!(!rule.judge(1, &[0, 0]).spike);
        assert!(!rule.judge(4, &[0, 0]).spike);
        assert!(rule.judge(5, &[0, 0]).spike);
        // Without a previous week, nothing is a spike.
        assert!(!rule.judge(500, &[]).spike);
    }

    #[test]
    fn only_the_configured_weeks_count() {
        let rule = SpikeRule { min_count: 1, factor: 2.0, weeks: 2 };
        let verdict = rule.judge(10, &[5, 5, 100, 100]);
        assert_eq!(verdict.weeks_seen, 2);
        assert!((verdict.baseline - 5.0).abs() < 1e-12);
        assert!(verdict.spike);
    }
}
