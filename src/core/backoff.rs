//! Reconnect delays for the live-event socket: exponential backoff with jitter, reset once a
//! connection has stayed up long enough to count as stable.
//!
//! The delay after attempt `n` (from 0) is `min + random × min(max, min × 2ⁿ)`, capped at `max`:
//! full jitter over the exponential ceiling, never below `min`, so that many clients dropped at
//! once do not come back at once. The caller passes the random number (`Math.random()`).

/// The delay in milliseconds before reconnect attempt `attempt` (0 for the first).
/// `random` is in [0, 1); values outside are clamped, NaN counts as 0.
pub fn delay_ms(min_ms: f64, max_ms: f64, attempt: u32, random: f64) -> f64 {
    let random = if random.is_nan() {
        0.0
    } else {
        random.clamp(0.0, 1.0)
    };
    let ceiling = (min_ms * (1u64 << attempt.min(31)) as f64).min(max_ms);
    (min_ms + random * ceiling).min(max_ms)
}

/// Backoff state of one socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    min_ms: f64,
    max_ms: f64,
    stable_ms: f64,
    attempt: u32,
    connected_at: Option<f64>,
}

impl Backoff {
    /// `stable_ms`: how long a connection must last for the next drop to start from `min` again.
    pub fn new(min_ms: f64, max_ms: f64, stable_ms: f64) -> Self {
        Backoff {
            min_ms,
            max_ms,
            stable_ms,
            attempt: 0,
            connected_at: None,
        }
    }

    /// The delay before the next reconnect attempt; each call backs off further.
    pub fn next_delay(&mut self, random: f64) -> f64 {
        let delay = delay_ms(self.min_ms, self.max_ms, self.attempt, random);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// How many attempts were made since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The socket opened at `now_ms`.
    pub fn connected(&mut self, now_ms: f64) {
        self.connected_at = Some(now_ms);
    }

    /// The socket closed at `now_ms`: a connection that lasted `stable_ms` resets the backoff.
    pub fn disconnected(&mut self, now_ms: f64) {
        if let Some(since) = self.connected_at.take() {
            if now_ms - since >= self.stable_ms {
                self.attempt = 0;
            }
        }
    }

    /// Starts over (e.g. after an explicit reconnect by the app).
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.connected_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_bounds() {
        // random 0: always the minimum.
        for attempt in [0, 1, 5, 40] {
            assert_eq!(delay_ms(500.0, 20_000.0, attempt, 0.0), 500.0);
        }
        // random just under 1: min + ceiling, with the ceiling doubling up to max.
        let r = 0.999_999;
        let near = |attempt, expected: f64| {
            let d = delay_ms(500.0, 20_000.0, attempt, r);
            assert!((d - expected).abs() < 0.1, "attempt {attempt}: {d}");
        };
        near(0, 1_000.0);
        near(1, 1_500.0);
        near(2, 2_500.0);
        near(3, 4_500.0);
        near(5, 16_500.0);
        near(6, 20_000.0);
        near(1_000, 20_000.0);
        assert_eq!(delay_ms(500.0, 20_000.0, 3, 0.5), 500.0 + 0.5 * 4_000.0);
    }

    #[test]
    fn odd_random_values_are_clamped() {
        assert_eq!(delay_ms(100.0, 1_000.0, 0, f64::NAN), 100.0);
        assert_eq!(delay_ms(100.0, 1_000.0, 0, -3.0), 100.0);
        assert_eq!(delay_ms(100.0, 1_000.0, 0, 7.0), 200.0);
        assert_eq!(delay_ms(100.0, 1_000.0, u32::MAX, 1.0), 1_000.0);
    }

    #[test]
    fn state_backs_off_and_resets_after_a_stable_connection() {
        let mut b = Backoff::new(100.0, 10_000.0, 5_000.0);
        assert_eq!(b.next_delay(0.999_999).round(), 200.0);
        assert_eq!(b.next_delay(0.999_999).round(), 300.0);
        assert_eq!(b.next_delay(0.999_999).round(), 500.0);
        assert_eq!(b.attempt(), 3);

        // A short connection does not reset.
        b.connected(1_000.0);
        b.disconnected(2_000.0);
        assert_eq!(b.attempt(), 3);
        assert_eq!(b.next_delay(0.999_999).round(), 900.0);

        // A stable one does.
        b.connected(10_000.0);
        b.disconnected(15_000.0);
        assert_eq!(b.attempt(), 0);
        assert_eq!(b.next_delay(0.999_999).round(), 200.0);

        // A disconnect without a connect changes nothing.
        b.disconnected(100_000.0);
        assert_eq!(b.attempt(), 1);

        b.reset();
        assert_eq!(b.attempt(), 0);
    }
}
