//! The backoff table of design §4.4.

use std::time::Duration;

use bihuan_notify::{DEFAULT_MAX_ATTEMPTS, backoff, backoff_with, retry_delay};

const MIN: u64 = 60;
const HOUR: u64 = 3600;

#[test]
fn the_table_without_jitter() {
    let table: Vec<Option<Duration>> = (1..=9).map(|attempt| backoff(attempt, 0.0)).collect();
    let expected: Vec<Option<Duration>> =
        [MIN, 5 * MIN, 15 * MIN, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR]
            .into_iter()
            .map(|s| Some(Duration::from_secs(s)))
            .chain([None, None])
            .collect();
    assert_eq!(table, expected);
    assert_eq!(DEFAULT_MAX_ATTEMPTS, 8);
}

#[test]
fn the_last_attempt_comes_about_22_hours_after_the_first() {
    let total: Duration = (1..DEFAULT_MAX_ATTEMPTS)
        .map(|a| backoff(a, 0.0).unwrap())
        .sum();
    assert_eq!(total, Duration::from_secs(22 * HOUR + 21 * MIN));
}

#[test]
fn jitter_is_ten_percent_either_way() {
    for attempt in 1..=7 {
        let base = backoff(attempt, 0.0).unwrap().as_secs_f64();
        let hi = backoff(attempt, 1.0).unwrap().as_secs_f64();
        let lo = backoff(attempt, -1.0).unwrap().as_secs_f64();
        assert!((hi - base * 1.1).abs() < 0.001, "attempt {attempt}: {hi}");
        assert!((lo - base * 0.9).abs() < 0.001, "attempt {attempt}: {lo}");
        let mid = backoff(attempt, 0.5).unwrap().as_secs_f64();
        assert!((mid - base * 1.05).abs() < 0.001);
        // Out of range and NaN do not escape the ±10 %.
        assert_eq!(backoff(attempt, 7.0), backoff(attempt, 1.0));
        assert_eq!(backoff(attempt, -7.0), backoff(attempt, -1.0));
        assert_eq!(backoff(attempt, f64::NAN), backoff(attempt, 0.0));
    }
    assert_eq!(backoff(1, 1.0), Some(Duration::from_secs(66)));
    assert_eq!(backoff(1, -1.0), Some(Duration::from_secs(54)));
}

#[test]
fn max_attempts_is_configurable() {
    assert_eq!(backoff_with(3, 4, 0.0), Some(Duration::from_secs(15 * MIN)));
    assert_eq!(backoff_with(4, 4, 0.0), None);
    assert_eq!(backoff_with(1, 1, 0.0), None);
    assert_eq!(
        backoff_with(10, 12, 0.0),
        Some(Duration::from_secs(12 * HOUR))
    );
    assert_eq!(backoff_with(12, 12, 0.0), None);
}

#[test]
fn retry_after_is_a_floor() {
    let after = Some(Duration::from_secs(120));
    assert_eq!(
        retry_delay(1, 8, 0.0, after),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        retry_delay(2, 8, 0.0, after),
        Some(Duration::from_secs(5 * MIN))
    );
    assert_eq!(retry_delay(1, 8, 0.0, None), Some(Duration::from_secs(MIN)));
    // No attempts left: a Retry-After does not buy another.
    assert_eq!(retry_delay(8, 8, 0.0, after), None);
}
