//! `core::json` against serde_json on any text, up to the differences that
//! tests/differential/json_oracle.rs names.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/differential/json_oracle.rs"]
mod json_oracle;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(difference) = json_oracle::disagreement(text) {
            panic!("{difference}");
        }
    }
});
