//! `core::number` against std: any text parsed (accepted exactly when it is a JSON number, then
//! within a few ulps of std's value), and any eight bytes as a double written (a JSON number
//! that reads back within a few ulps).
#![no_main]

use keycloak_wasm::core::number;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/differential/number_oracle.rs"]
mod number_oracle;

use number_oracle::{is_json_number, within, FEW_ULPS};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let ours = number::parse(text);
        assert_eq!(ours.is_some(), is_json_number(text), "{text:?}");
        if let Some(value) = ours {
            let exact: f64 = text.parse().unwrap();
            assert!(
                within(value, exact, FEW_ULPS),
                "{text}: {value:e}, std {exact:e}"
            );
        }
    }
    if let Ok(bytes) = <[u8; 8]>::try_from(data) {
        let value = f64::from_bits(u64::from_le_bytes(bytes));
        if value.is_finite() {
            let mut text = String::new();
            number::write(value, &mut text);
            assert!(is_json_number(&text), "{value:e} written as {text}");
            let exact: f64 = text.parse().unwrap();
            assert!(
                within(exact, value, FEW_ULPS),
                "{value:e} written as {text}"
            );
        }
    }
});
