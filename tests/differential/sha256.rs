//! `core::sha256` against the sha2 crate, on lengths around every padding boundary.

use keycloak_wasm::core::sha256;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// Lengths where the padding changes shape: the length field fits in the last block up to 55
/// bytes past a multiple of 64, and needs a block of its own from 56.
fn boundary_length() -> impl Strategy<Value = usize> {
    (
        0usize..8,
        prop::sample::select(vec![0usize, 1, 54, 55, 56, 57, 63]),
    )
        .prop_map(|(blocks, rest)| blocks * 64 + rest)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn digests_as_sha2_does(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(sha256::digest(&data), <[u8; 32]>::from(Sha256::digest(&data)));
    }

    #[test]
    fn digests_boundary_lengths_as_sha2_does(length in boundary_length(), fill in any::<u8>(), seed in any::<u8>()) {
        let data: Vec<u8> = (0..length).map(|i| fill ^ (i as u8).wrapping_mul(seed)).collect();
        prop_assert_eq!(sha256::digest(&data), <[u8; 32]>::from(Sha256::digest(&data)), "length {}", length);
    }
}

#[test]
fn a_long_input_digests_as_sha2_does() {
    let data: Vec<u8> = (0..100_003u32).map(|i| (i * 31 % 251) as u8).collect();
    assert_eq!(
        sha256::digest(&data),
        <[u8; 32]>::from(Sha256::digest(&data))
    );
}
