//! `core::number` against the standard library (see [`crate::number_oracle`]).
//!
//! What the module promises: integers up to 2^53 and decimals of up to 15 significant digits
//! with an exponent within ±22 convert exactly both ways, written as `String(n)`; anything else
//! drifts by at most a few ulps; the accepted text is exactly JSON's number grammar.

use keycloak_wasm::core::number;
use proptest::prelude::*;

use crate::number_oracle::{is_json_number, javascript_string, ulps, within, FEW_ULPS};

fn write(n: f64) -> String {
    let mut out = String::new();
    number::write(n, &mut out);
    out
}

/// The digits of `mantissa × 10^exponent` written in one of JSON's forms: with the point
/// moved by `shift` places (compensated in the exponent), `e` or `E`, with or without `+`,
/// and padded with `zeros` trailing zeros that do not change the value.
fn render(mantissa: u64, exponent: i32, shift: usize, zeros: usize, style: u8) -> String {
    let digits = format!("{mantissa}{}", "0".repeat(zeros));
    let exponent = exponent - zeros as i32;
    // Move the point `shift` places to the left: the exponent grows by as much.
    let exponent = exponent + shift as i32;
    let number = if shift == 0 {
        digits
    } else if shift < digits.len() {
        let (int, frac) = digits.split_at(digits.len() - shift);
        format!("{int}.{frac}")
    } else {
        format!("0.{}{digits}", "0".repeat(shift - digits.len()))
    };
    let marker = if style & 1 == 0 { "e" } else { "E" };
    match (exponent, (style >> 1) & 3) {
        (0, 0) => number,
        (e, 1) if e >= 0 => format!("{number}{marker}+{e}"),
        (e, _) => format!("{number}{marker}{e}"),
    }
}

/// A mantissa of up to 15 significant digits.
fn short_mantissa() -> impl Strategy<Value = u64> {
    prop_oneof![1u64..1000, 1u64..1_000_000_000_000_000]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn short_decimals_parse_exactly_in_any_form(
        mantissa in short_mantissa(),
        exponent in -22i32..=22,
        shift in 0usize..20,
        zeros in 0usize..8,
        style in any::<u8>(),
        negative in any::<bool>(),
    ) {
        let text = render(mantissa, exponent, shift, zeros, style);
        let text = if negative { format!("-{text}") } else { text };
        let exact: f64 = text.parse().unwrap();
        let ours = number::parse(&text);
        prop_assert_eq!(ours.map(f64::to_bits), Some(exact.to_bits()), "{}", text);
    }

    #[test]
    fn short_decimals_are_written_as_javascript_writes_them(
        mantissa in short_mantissa(),
        exponent in -22i32..=22,
        negative in any::<bool>(),
    ) {
        let value: f64 = format!("{}{mantissa}e{exponent}", if negative { "-" } else { "" })
            .parse()
            .unwrap();
        let text = write(value);
        prop_assert_eq!(&text, &javascript_string(value));
        prop_assert_eq!(number::parse(&text), Some(value), "{}", text);
    }

    #[test]
    fn integers_up_to_2_pow_53_are_exact_both_ways(n in 0u64..=1 << 53, negative in any::<bool>()) {
        let value = if negative { -(n as f64) } else { n as f64 };
        let text = write(value);
        let expected = if negative && n != 0 { format!("-{n}") } else { n.to_string() };
        prop_assert_eq!(&text, &expected);
        prop_assert_eq!(number::parse(&text), Some(value));
    }

    #[test]
    fn any_double_is_written_within_a_few_ulps_and_reads_back(bits in any::<u64>()) {
        let value = f64::from_bits(bits);
        prop_assume!(value.is_finite());
        let text = write(value);
        prop_assert!(is_json_number(&text), "{} is not a JSON number", text);
        let exact: f64 = text.parse().unwrap();
        prop_assert!(within(exact, value, FEW_ULPS), "{:e} written as {} ({} ulps)", value, text, ulps(exact, value));
        let ours = number::parse(&text).unwrap();
        prop_assert!(within(ours, value, FEW_ULPS), "{} read back as {:e}", text, ours);
        // Never more than the 17 significant digits any double needs.
        let mantissa: String = text.split('e').next().unwrap().chars().filter(char::is_ascii_digit).collect();
        let significant = mantissa.trim_start_matches('0').trim_end_matches('0').len();
        prop_assert!(significant <= 17, "{}", text);
    }

    #[test]
    fn any_json_number_parses_within_a_few_ulps(
        negative in any::<bool>(),
        int in "0|[1-9][0-9]{0,30}",
        frac in proptest::option::of("[0-9]{1,30}"),
        exp in proptest::option::of(("[eE]", "[+-]?", 0u32..10_000)),
    ) {
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        text.push_str(&int);
        if let Some(frac) = frac {
            text.push('.');
            text.push_str(&frac);
        }
        if let Some((marker, sign, digits)) = exp {
            text.push_str(&format!("{marker}{sign}{digits}"));
        }
        let exact: f64 = text.parse().unwrap();
        let ours = number::parse(&text);
        prop_assert!(ours.is_some(), "{} refused", text);
        let ours = ours.unwrap();
        prop_assert_eq!(ours.is_sign_negative(), exact.is_sign_negative(), "{}", text);
        prop_assert!(within(ours, exact, FEW_ULPS), "{}: {:e}, std {:e} ({} ulps)", text, ours, exact, ulps(ours, exact));
    }

    #[test]
    fn accepts_exactly_the_json_number_grammar(text in "[0-9.eE+x-]{0,10}") {
        prop_assert_eq!(number::parse(&text).is_some(), is_json_number(&text), "{:?}", text);
    }

    #[test]
    fn from_decimal_is_correctly_rounded_in_its_exact_range(
        mantissa in 0u64..1 << 53,
        exponent in -22i32..=22,
    ) {
        let exact: f64 = format!("{mantissa}e{exponent}").parse().unwrap();
        prop_assert_eq!(number::from_decimal(mantissa, exponent).to_bits(), exact.to_bits());
    }

    #[test]
    fn floor_and_ceil_are_std_s(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(!x.is_nan());
        prop_assert_eq!(number::floor(x).to_bits(), x.floor().to_bits(), "floor({:e})", x);
        prop_assert_eq!(number::ceil(x).to_bits(), x.ceil().to_bits(), "ceil({:e})", x);
    }

    #[test]
    fn push_u64_writes_display_s_digits(n in any::<u64>()) {
        let mut out = String::from("x");
        number::push_u64(n, &mut out);
        prop_assert_eq!(out, format!("x{n}"));
    }
}
