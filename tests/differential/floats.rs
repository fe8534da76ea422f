//! Comparing doubles the way `core::number` promises: exactly in its exact range, within a few
//! units in the last place beyond.

/// "A few ulps": the drift `core::number` allows itself outside its exact range.
pub const FEW_ULPS: u64 = 8;

/// The distance in ulps between two doubles: how many representable values lie between them.
/// Zeros of either sign are one point, values of opposite signs count through zero, and an
/// infinity is the step past the largest finite double (so drifting over the top is measured).
pub fn ulps(a: f64, b: f64) -> u64 {
    // Map the bits onto a line that is ordered like the values.
    fn ordered(x: f64) -> i64 {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    }
    ordered(a).abs_diff(ordered(b))
}

/// Whether `ours` is within `bound` ulps of `exact` (never for NaN).
pub fn within(ours: f64, exact: f64, bound: u64) -> bool {
    !ours.is_nan() && !exact.is_nan() && ulps(ours, exact) <= bound
}

#[test]
fn ulps_counts_representable_steps() {
    assert_eq!(ulps(1.0, 1.0), 0);
    assert_eq!(ulps(1.0, f64::from_bits(1.0f64.to_bits() + 3)), 3);
    assert_eq!(ulps(0.0, -0.0), 0);
    assert_eq!(ulps(5e-324, -5e-324), 2);
    assert_eq!(ulps(f64::MAX, f64::INFINITY), 1);
    assert!(!within(f64::NAN, f64::NAN, FEW_ULPS));
}
