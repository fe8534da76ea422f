//! Signing keys and JSON Web Tokens.
//!
//! Like Keycloak, access and ID tokens are RS256 (published in the JWKS with a `kid`), while
//! refresh tokens and the identity cookie are HS512 with a server-side secret. Rotation adds a new
//! active key and keeps the old ones for verification (Keycloak's "passive" keys) unless told to
//! drop them.

use hmac::{Hmac, Mac};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::util::{b64_decode, b64url, b64url_decode, random_token};

const RSA_BITS: usize = 2048;

pub fn generate_rsa_key() -> Result<RsaPrivateKey, String> {
    RsaPrivateKey::new(&mut rand::thread_rng(), RSA_BITS)
        .map_err(|err| format!("cannot generate an RSA key: {err}"))
}

struct RsaKey {
    kid: String,
    signing: SigningKey<Sha256>,
    verifying: VerifyingKey<Sha256>,
    public: RsaPublicKey,
}

struct HmacKey {
    kid: String,
    secret: Vec<u8>,
}

pub struct KeySet {
    /// The last one signs; all verify.
    rsa: Vec<RsaKey>,
    hmac: Vec<HmacKey>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    UnknownKey,
    BadSignature,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwtError::Malformed => "malformed token",
            JwtError::UnknownKey => "token signed with an unknown key",
            JwtError::BadSignature => "invalid token signature",
        })
    }
}

fn rsa_key(private: RsaPrivateKey) -> RsaKey {
    let public = private.to_public_key();
    let kid = b64url(&Sha256::digest(public.n().to_bytes_be()));
    RsaKey {
        kid,
        verifying: VerifyingKey::<Sha256>::new(public.clone()),
        signing: SigningKey::<Sha256>::new(private),
        public,
    }
}

fn hmac_key() -> HmacKey {
    HmacKey {
        kid: crate::util::uuid(),
        secret: random_token(64).into_bytes(),
    }
}

impl KeySet {
    pub fn new(private: RsaPrivateKey) -> KeySet {
        KeySet {
            rsa: vec![rsa_key(private)],
            hmac: vec![hmac_key()],
        }
    }

    /// Makes `private` the active signing key (and a fresh HMAC secret); returns the new kid.
    pub fn rotate(&mut self, private: RsaPrivateKey, keep_old: bool) -> String {
        if !keep_old {
            self.rsa.clear();
            self.hmac.clear();
        }
        let key = rsa_key(private);
        let kid = key.kid.clone();
        self.rsa.push(key);
        self.hmac.push(hmac_key());
        kid
    }

    pub fn active_kid(&self) -> String {
        self.rsa.last().map(|k| k.kid.clone()).unwrap_or_default()
    }

    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .rsa
            .iter()
            .rev()
            .map(|key| {
                json!({
                    "kid": key.kid,
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "n": b64url(&key.public.n().to_bytes_be()),
                    "e": b64url(&key.public.e().to_bytes_be()),
                })
            })
            .collect();
        json!({ "keys": keys })
    }

    /// The active public key as base64 SPKI DER: the `public_key` of `GET /realms/{realm}`.
    pub fn public_key_der_b64(&self) -> String {
        use base64::Engine;
        self.rsa
            .last()
            .and_then(|k| k.public.to_public_key_der().ok())
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
            .unwrap_or_default()
    }

    pub fn sign_rs256(&self, claims: &Value) -> String {
        let Some(key) = self.rsa.last() else {
            return String::new();
        };
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": key.kid });
        let input = signing_input(&header, claims);
        let signature: Signature = key.signing.sign(input.as_bytes());
        format!("{input}.{}", b64url(&signature.to_bytes()))
    }

    pub fn sign_hs512(&self, claims: &Value) -> String {
        let Some(key) = self.hmac.last() else {
            return String::new();
        };
        let header = json!({ "alg": "HS512", "typ": "JWT", "kid": key.kid });
        let input = signing_input(&header, claims);
        let tag = hmac_tag(&key.secret, input.as_bytes());
        format!("{input}.{}", b64url(&tag))
    }

    /// Verifies a token signed by this server (either algorithm) and returns its claims.
    /// Expiry and issuer are the caller's business.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, JwtError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header = decode_json(header_b64).ok_or(JwtError::Malformed)?;
        let signature = b64url_decode(signature_b64).ok_or(JwtError::Malformed)?;
        let input = format!("{header_b64}.{payload_b64}");
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => {
                let key = self
                    .rsa
                    .iter()
                    .find(|k| k.kid == kid)
                    .ok_or(JwtError::UnknownKey)?;
                let signature =
                    Signature::try_from(signature.as_slice()).map_err(|_| JwtError::Malformed)?;
                key.verifying
                    .verify(input.as_bytes(), &signature)
                    .map_err(|_| JwtError::BadSignature)?;
            }
            Some("HS512") => {
                let key = self
                    .hmac
                    .iter()
                    .find(|k| k.kid == kid)
                    .ok_or(JwtError::UnknownKey)?;
                let expected = hmac_tag(&key.secret, input.as_bytes());
                if expected.len() != signature.len()
                    || expected
                        .iter()
                        .zip(&signature)
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        != 0
                {
                    return Err(JwtError::BadSignature);
                }
            }
            _ => return Err(JwtError::Malformed),
        }
        match decode_json(payload_b64) {
            Some(Value::Object(claims)) => Ok(claims),
            _ => Err(JwtError::Malformed),
        }
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

fn hmac_tag(secret: &[u8], input: &[u8]) -> Vec<u8> {
    match Hmac::<Sha512>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this arm exists only to avoid a panic path.
        Err(_) => Vec::new(),
    }
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = b64url_decode(part).or_else(|| b64_decode(part))?;
    serde_json::from_slice(&bytes).ok()
}

/// Reads a JWT's claims without verifying it (for error messages and introspection of foreign tokens).
pub fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    match decode_json(token.split('.').nth(1)?) {
        Some(Value::Object(claims)) => Some(claims),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyset() -> KeySet {
        KeySet::new(crate::testkey::shared_key().unwrap())
    }

    #[test]
    fn rs256_round_trip_and_tamper_detection() {
        let keys = keyset();
        let token = keys.sign_rs256(&json!({"sub": "alice"}));
        assert_eq!(keys.verify(&token).unwrap()["sub"], "alice");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64url(br#"{"sub":"mallory"}"#);
        parts[1] = &forged;
        assert_eq!(keys.verify(&parts.join(".")), Err(JwtError::BadSignature));
    }

    #[test]
    fn hs512_round_trip_and_rotation_without_old_keys() {
        let mut keys = keyset();
        let token = keys.sign_hs512(&json!({"typ": "Refresh"}));
        assert_eq!(keys.verify(&token).unwrap()["typ"], "Refresh");
        let access = keys.sign_rs256(&json!({"typ": "Bearer"}));
        keys.rotate(generate_rsa_key().unwrap(), true);
        assert!(keys.verify(&token).is_ok(), "kept keys still verify");
        keys.rotate(generate_rsa_key().unwrap(), false);
        assert_eq!(keys.verify(&token), Err(JwtError::UnknownKey));
        assert_eq!(keys.verify(&access), Err(JwtError::UnknownKey));
    }

    #[test]
    fn jwks_lists_rsa_keys_with_kid() {
        let keys = keyset();
        let jwks = keys.jwks();
        assert_eq!(jwks["keys"][0]["kid"], keys.active_kid().as_str());
        assert_eq!(jwks["keys"][0]["e"], "AQAB");
    }
}
