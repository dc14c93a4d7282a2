//! Medians, quantiles and how figures are shown.

use std::time::Duration;

/// The median of `samples`.
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// The `q`-quantile (0 to 1) of `samples`.
pub fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(at).copied().unwrap_or_default()
}

/// Milliseconds, with two decimals under 10 ms.
pub fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.0}")
    }
}

/// `a` as a multiple of `b`, e.g. `0.93x`.
pub fn ratio(a: Duration, b: Duration) -> String {
    format!(
        "{:.2}x",
        a.as_secs_f64() / b.as_secs_f64().max(f64::MIN_POSITIVE)
    )
}

/// The median of `a[i] / b[i]`: samples taken side by side, compared pair by pair.
pub fn paired(a: &[Duration], b: &[Duration]) -> String {
    let mut ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(f64::MIN_POSITIVE))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let middle = match ratios.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => ratios[n / 2],
        n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
    };
    format!("{middle:.2}x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        let d = Duration::from_millis;
        assert_eq!(median(&[d(3), d(1), d(2)]), d(2));
        assert_eq!(
            median(&[d(4), d(1), d(2), d(3)]),
            Duration::from_micros(2500)
        );
        assert_eq!(ratio(d(1), d(2)), "0.50x");
        assert_eq!(paired(&[d(1), d(10), d(3)], &[d(2), d(10), d(1)]), "1.00x");
        let hundred: Vec<Duration> = (1..=100).map(d).collect();
        assert_eq!(quantile(&hundred, 0.5), d(51));
        assert_eq!(quantile(&hundred, 0.99), d(99));
        assert_eq!(quantile(&[], 0.99), Duration::ZERO);
    }
}
