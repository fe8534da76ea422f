//! What `core::number` is measured against: std's `str::parse::<f64>` is correctly rounded,
//! std's `{:e}` writes the shortest digits that read back, from which JavaScript's `String(n)`
//! follows by the layout rules of ECMA-262 (Number::toString), and serde_json knows JSON's
//! number grammar. Doubles compare exactly in the module's exact range, within a few units in
//! the last place beyond. Shared by the property tests and the fuzz target.

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

/// `String(n)` for a finite `n`, laid out from std's shortest digits.
pub fn javascript_string(n: f64) -> String {
    if n == 0.0 {
        return "0".to_owned();
    }
    let scientific = format!("{:e}", n.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap();
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    // ECMA-262's n: the position of the decimal point relative to the first digit.
    let point = exponent.parse::<i32>().unwrap() + 1;
    let body = if k <= point && point <= 21 {
        digits + &"0".repeat((point - k) as usize)
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let sign = if point - 1 < 0 { '-' } else { '+' };
        format!("{first}{fraction}e{sign}{}", (point - 1).abs())
    };
    if n < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

/// Whether `text`, the whole of it, is a JSON number, by serde_json's grammar. A value out of
/// f64's range is still a number (JSON.parse makes it an infinity), but serde_json refuses it
/// before reading on: so the exponent's digits are first cut to one, which keeps the grammar
/// and the range.
pub fn is_json_number(text: &str) -> bool {
    // serde_json reads a whole document, whitespace around the value included.
    const WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];
    if text.starts_with(WHITESPACE) || text.ends_with(WHITESPACE) {
        return false;
    }
    let mut text = text.to_owned();
    if let Some(e) = text.find(['e', 'E']) {
        let digits = e + 1 + usize::from(text[e + 1..].starts_with(['+', '-']));
        let end = text[digits..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(text.len(), |n| digits + n);
        if end > digits {
            text.replace_range(digits..end, "1");
        }
    }
    serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|value| value.is_number())
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

#[test]
fn the_layout_oracle_is_javascript_s() {
    // Node.js's String(n) for values at each branch of the layout.
    for (n, js) in [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123.456, "123.456"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (-1.5e-7, "-1.5e-7"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
    ] {
        assert_eq!(javascript_string(n), js);
    }
}
