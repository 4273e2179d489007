//! When to try again (design §4.4). Pure: the caller brings the attempt count and the jitter.

use std::time::Duration;

/// The default of `notify.max_attempts`: after the 8th attempt a delivery fails, about 22 h after
/// the first.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// Delays after attempts 1 to 7, in seconds: 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h. Later
/// attempts (with a `max_attempts` above 8) wait as long as the last.
const DELAYS: [u64; 7] = [60, 5 * 60, 15 * 60, 3600, 3 * 3600, 6 * 3600, 12 * 3600];

/// The share of a delay that jitter may add or take away.
const JITTER: f64 = 0.10;

/// The wait after attempt number `attempt` (1 for the first) failed with a retry, or `None` when
/// that was attempt [`DEFAULT_MAX_ATTEMPTS`] or later and the delivery fails for good.
///
/// `jitter_unit` in [-1, 1] scales the ±10 % jitter (the caller draws it at random; values
/// outside are clamped, NaN counts as 0). `attempt` 0 (nothing tried yet) waits nothing.
pub fn backoff(attempt: u32, jitter_unit: f64) -> Option<Duration> {
    backoff_with(attempt, DEFAULT_MAX_ATTEMPTS, jitter_unit)
}

/// [`backoff`] with a configured `max_attempts` (`notify.max_attempts`).
pub fn backoff_with(attempt: u32, max_attempts: u32, jitter_unit: f64) -> Option<Duration> {
    if attempt >= max_attempts {
        return None;
    }
    let Some(index) = attempt.checked_sub(1) else {
        return Some(Duration::ZERO);
    };
    let index = usize::try_from(index)
        .unwrap_or(usize::MAX)
        .min(DELAYS.len() - 1);
    let base_secs = DELAYS.get(index).copied().unwrap_or(12 * 3600);
    let unit = if jitter_unit.is_nan() {
        0.0
    } else {
        jitter_unit.clamp(-1.0, 1.0)
    };
    let millis = (base_secs as f64 * 1000.0 * (1.0 + JITTER * unit)).round();
    // Always positive and far below u64::MAX; `as` saturates anyway.
    Some(Duration::from_millis(millis as u64))
}

/// The wait before the next attempt: [`backoff_with`], but never shorter than the receiver's
/// `Retry-After`. `None` when the delivery has used up its attempts.
pub fn retry_delay(
    attempt: u32,
    max_attempts: u32,
    jitter_unit: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    backoff_with(attempt, max_attempts, jitter_unit).map(|d| d.max(retry_after.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_larger_max_repeats_the_last_delay() {
        assert_eq!(
            backoff_with(9, 12, 0.0),
            Some(Duration::from_secs(12 * 3600))
        );
        assert_eq!(
            backoff_with(u32::MAX - 1, u32::MAX, 0.0),
            Some(Duration::from_secs(12 * 3600))
        );
        assert_eq!(backoff_with(3, 3, 0.0), None);
        assert_eq!(backoff(0, 0.5), Some(Duration::ZERO));
    }
}
