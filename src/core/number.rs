//! Numbers to and from text, without the standard library's float formatting and parsing: those
//! weigh about 30 KB of WebAssembly (tables included), a third of the core.
//!
//! Exactness where it matters: integers up to 2^53 and decimals of up to 15 significant digits
//! with an exponent within ±22 (every number the protocol carries: `exp`, `iat`, `expires`,
//! `maxAge`, ...) convert exactly both ways, and the output is JavaScript's `String(n)`. Longer
//! or more extreme values drift by at most a few ulps. That never reaches JavaScript for data
//! passed through: [`crate::core::json`] writes a number it read with the text it read.

use crate::prelude::*;

/// Powers of ten that an f64 holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// 2^53: integers up to here are exact in an f64.
const EXACT_INTEGER_LIMIT: u64 = 1 << 53;

/// `mantissa × 10^exponent`, correctly rounded when the mantissa is below 2^53 and the exponent
/// within ±22 (one rounding of exact operands), approximate beyond.
pub fn from_decimal(mut mantissa: u64, mut exponent: i32) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    // Trailing zeros only make the mantissa inexact: "7222817106187760000" is 722281710618776e4.
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    // Move surplus powers of ten into the mantissa while it stays exact.
    while exponent > 22 && mantissa < EXACT_INTEGER_LIMIT / 10 {
        mantissa *= 10;
        exponent -= 1;
    }
    let mut value = mantissa as f64;
    while exponent > 0 {
        let step = exponent.min(22);
        value *= POW10.get(step as usize).copied().unwrap_or(1e22);
        exponent -= step;
    }
    while exponent < 0 {
        let step = (-exponent).min(22);
        value /= POW10.get(step as usize).copied().unwrap_or(1e22);
        exponent += step;
    }
    value
}

/// `f64::floor`, which `core` lacks (the rounding methods live in `std`).
pub fn floor(x: f64) -> f64 {
    // NaN, the infinities, ±0 and every magnitude from 2^52 up are integral already.
    let magnitude = if x < 0.0 { -x } else { x };
    if x.is_nan() || magnitude >= 4_503_599_627_370_496.0 || x == 0.0 {
        return x;
    }
    let truncated = x as i64 as f64;
    if truncated > x {
        truncated - 1.0
    } else {
        truncated
    }
}

/// `f64::ceil`.
pub fn ceil(x: f64) -> f64 {
    -floor(-x)
}

/// Parses a JSON number (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`), the whole
/// text. Too large a value gives an infinity and too small a zero, as in `JSON.parse`.
pub fn parse(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut mantissa: u64 = 0;
    let mut exponent: i32 = 0;
    // Digits past 18 significant ones are dropped (truncating: the approximate range).
    let mut take = |d: u8, fraction: bool, exponent: &mut i32| {
        if mantissa < 100_000_000_000_000_000 {
            mantissa = mantissa * 10 + u64::from(d);
            if fraction {
                *exponent -= 1;
            }
        } else if !fraction {
            *exponent += 1;
        }
    };
    match bytes.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                take(d - b'0', false, &mut exponent);
                i += 1;
            }
        }
        _ => return None,
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
            take(d - b'0', true, &mut exponent);
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        let exp_negative = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut written: i32 = 0;
        while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
            // Saturate: anything past ±100000 is already infinite or zero.
            written = (written * 10 + i32::from(d - b'0')).min(100_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        exponent += if exp_negative { -written } else { written };
    }
    if i != bytes.len() {
        return None;
    }
    let value = from_decimal(mantissa, exponent);
    Some(if negative { -value } else { value })
}

/// Appends the decimal digits of `n`.
pub fn push_u64(mut n: u64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(slot) = buf.get_mut(start) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    for &b in buf.get(start..).unwrap_or(&[]) {
        out.push(char::from(b));
    }
}

/// The shortest digits `m` and exponent `e` with `m × 10^e` reading back as `v` (finite, > 0).
fn shortest_digits(v: f64) -> (u64, i32) {
    // The decimal exponent d with 10^d <= v < 10^(d+1): estimated from the binary exponent,
    // then corrected.
    let binary_exponent = ((v.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let mut d = floor(f64::from(binary_exponent) * core::f64::consts::LOG10_2) as i32;
    while from_decimal(1, d + 1) <= v {
        d += 1;
    }
    while d > -330 && from_decimal(1, d) > v {
        d -= 1;
    }
    let mut best = (0, 0);
    for precision in 1..=17 {
        // Scale v so that `precision` digits stand before the point.
        let shift = precision - 1 - d;
        let scaled = if shift >= 0 {
            v * from_decimal(1, shift.min(300)) * from_decimal(1, (shift - 300).max(0))
        } else {
            v / from_decimal(1, -shift)
        };
        let mantissa = floor(scaled + 0.5) as u64;
        best = (mantissa, -shift);
        if from_decimal(mantissa, -shift) == v {
            break;
        }
    }
    let (mut mantissa, mut exponent) = best;
    while mantissa != 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    (mantissa, exponent)
}

/// Appends `n` as JavaScript's `String(n)` writes it: `3600`, `0.5`, `1e+21`, `1.5e-7`, `NaN`,
/// `Infinity`; -0 as `0`.
pub fn write(n: f64, out: &mut String) {
    if n.is_nan() {
        out.push_str("NaN");
        return;
    }
    // -0 is written as 0.
    if n == 0.0 {
        out.push('0');
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    let v = n.abs();
    if v.is_infinite() {
        out.push_str("Infinity");
        return;
    }
    if floor(v) == v && v < EXACT_INTEGER_LIMIT as f64 {
        push_u64(v as u64, out);
        return;
    }
    let (mantissa, exponent) = shortest_digits(v);
    let mut digits = String::with_capacity(20);
    push_u64(mantissa, &mut digits);
    let k = digits.len() as i32;
    // The decimal point's position relative to the first digit.
    let point = exponent + k;
    if k <= point && point <= 21 {
        out.push_str(&digits);
        for _ in 0..point - k {
            out.push('0');
        }
    } else if 0 < point && point <= 21 {
        // The digits are ASCII: any split is a character boundary.
        let (int, frac) = digits
            .split_at_checked(point as usize)
            .unwrap_or((&digits, ""));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at_checked(1).unwrap_or((&digits, ""));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = point - 1;
        out.push_str(if e < 0 { "e-" } else { "e+" });
        push_u64(u64::from(e.unsigned_abs()), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_and_ceil_are_std_s() {
        let values = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1.5,
            -1.5,
            2.999,
            -2.999,
            1e15 + 0.5,
            -1e15 - 0.5,
            4503599627370495.5,
            4503599627370496.0,
            9007199254740993.0,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in values {
            assert_eq!(floor(x).to_bits(), x.floor().to_bits(), "floor({x})");
            assert_eq!(ceil(x).to_bits(), x.ceil().to_bits(), "ceil({x})");
        }
        assert!(floor(f64::NAN).is_nan() && ceil(f64::NAN).is_nan());
    }

    fn text(n: f64) -> String {
        let mut out = String::new();
        write(n, &mut out);
        out
    }

    #[test]
    fn writes_like_javascript() {
        // Expected values are `String(n)` in Node.js.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-5.0, "-5"),
            (3600.0, "3600"),
            (1_700_000_000_123.0, "1700000000123"),
            (9_007_199_254_740_991.0, "9007199254740991"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (1_152_921_504_606_846_976.0, "1152921504606847000"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.2345678901234568e20, "123456789012345680000"),
            (0.1, "0.1"),
            (0.5, "0.5"),
            (-0.25, "-0.25"),
            (1.5, "1.5"),
            (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2.0 / 3.0, "0.6666666666666666"),
            (0.000001, "0.000001"),
            (0.0000012, "0.0000012"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (123e-20, "1.23e-18"),
            (4.35, "4.35"),
            (1.5e300, "1.5e+300"),
            (-2.5e-300, "-2.5e-300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for &(n, expected) in cases {
            assert_eq!(text(n), expected, "{n:e}");
        }
    }

    #[test]
    fn parses_json_numbers() {
        let cases: &[(&str, f64)] = &[
            ("0", 0.0),
            ("-0", -0.0),
            ("7", 7.0),
            ("-12", -12.0),
            ("1700000000123", 1_700_000_000_123.0),
            ("9007199254740993", 9_007_199_254_740_992.0),
            ("0.1", 0.1),
            ("0.30000000000000004", 0.30000000000000004),
            ("1.5e-7", 1.5e-7),
            ("1E+3", 1000.0),
            ("1e21", 1e21),
            ("1e23", 1e23),
            ("2.5e-5", 2.5e-5),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("1e400", f64::INFINITY),
            ("-1e400", f64::NEG_INFINITY),
            ("1e-400", 0.0),
            ("1e99999999999", f64::INFINITY),
        ];
        for &(s, expected) in cases {
            let got = parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(got, expected, "{s}");
            assert_eq!(got.is_sign_negative(), expected.is_sign_negative(), "{s}");
        }
        for bad in [
            "", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "1 ", " 1", "NaN", "--1",
            "1.2.3", "١",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    /// A small deterministic generator for the sweeps below.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn short_decimals_parse_exactly() {
        // Up to 15 significant digits and exponents within ±22: correctly rounded.
        let mut state = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mantissa = xorshift(&mut state) % 1_000_000_000_000_000;
            let exponent = (xorshift(&mut state) % 45) as i32 - 22;
            let s = format!("{mantissa}e{exponent}");
            assert_eq!(parse(&s), s.parse::<f64>().ok(), "{s}");
        }
    }

    /// The distance in ulps between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn any_double_reads_back_within_a_few_ulps() {
        // Outside the exact range, text and value may drift by a few ulps (the bound in the
        // module's documentation); never more, never a different magnitude.
        let mut state = 0x2545_F491_4F6C_DD1D;
        for _ in 0..50_000 {
            let v = f64::from_bits(xorshift(&mut state));
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            let s = text(v);
            let exact: f64 = s.parse().unwrap();
            assert!(ulps(exact, v) <= 8, "{v:e} written as {s}");
            let ours = parse(&s.replace("e+", "e")).unwrap();
            assert!(ulps(ours, v) <= 8, "{v:e} read back as {ours:e}");
        }
    }

    #[test]
    fn fifteen_digit_values_are_exact_both_ways() {
        // What JSON.stringify writes for values with up to 15 significant digits, in the
        // usual range: read exactly, written back with the same (shortest) digits.
        let mut state = 0x0123_4567_89AB_CDEF;
        for _ in 0..20_000 {
            let mantissa = xorshift(&mut state) % 1_000_000_000_000_000;
            let exponent = (xorshift(&mut state) % 31) as i32 - 22;
            let v: f64 = format!("{mantissa}e{exponent}").parse().unwrap();
            let s = text(v);
            assert_eq!(parse(&s.replace("e+", "e")), Some(v), "{s}");
            let digits = |t: &str| {
                let m = t.split('e').next().unwrap().replace(['-', '.'], "");
                m.trim_start_matches('0').trim_end_matches('0').to_owned()
            };
            assert_eq!(
                digits(&s),
                digits(&format!("{v:e}")),
                "{v:e} written as {s}"
            );
        }
    }

    #[test]
    fn protocol_numbers_round_trip_exactly() {
        let mut state = 0x1234_5678_9ABC_DEF1;
        for _ in 0..20_000 {
            // Timestamps, durations, and decimals with few digits.
            let int = (xorshift(&mut state) % EXACT_INTEGER_LIMIT) as f64;
            assert_eq!(parse(&text(int)), Some(int));
            assert_eq!(text(int), format!("{}", int as u64));
            let cents = (xorshift(&mut state) % 10_000_000) as f64 / 100.0;
            assert_eq!(text(cents), format!("{cents}"));
        }
    }

    #[test]
    fn integers() {
        for (n, s) in [
            (0u64, "0"),
            (7, "7"),
            (10, "10"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let mut out = String::new();
            push_u64(n, &mut out);
            assert_eq!(out, s);
        }
    }
}
