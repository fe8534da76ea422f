//! One RSA key per process for tests, which start many servers: generating a 2048-bit key costs
//! far more than starting a server.

use std::sync::OnceLock;

use rsa::RsaPrivateKey;

static KEY: OnceLock<Result<RsaPrivateKey, String>> = OnceLock::new();

pub fn shared_key() -> Result<RsaPrivateKey, String> {
    KEY.get_or_init(crate::keys::generate_rsa_key).clone()
}
