//! Issuers' signing keys, fetched over HTTP from `<issuer>/protocol/openid-connect/certs` as a
//! resource server in front of Keycloak does (Centrifugo, KrakenD, Keycloak's own adapters):
//! cached per issuer, refetched when a token names an unknown `kid`, at most once per
//! `min_interval` so that tokens with made-up kids cannot hammer the issuer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rsa::pkcs1v15::VerifyingKey;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;

use crate::util::b64url_decode;

/// A JWKS document larger than this is refused.
const MAX_JWKS_BYTES: usize = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why no key could be had. The message never contains a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError(pub String);

#[derive(Default)]
struct Entry {
    keys: HashMap<String, VerifyingKey<Sha256>>,
    fetched_at: Option<Instant>,
    fetches: u64,
    /// The last fetch failed: until the next one is allowed, keep saying so.
    last_error: Option<FetchError>,
}

/// What the hub status knob shows about one key source.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    pub url: String,
    pub fetches: u64,
    pub kids: Vec<String>,
}

pub struct KeyCache {
    http: reqwest::Client,
    min_interval: Duration,
    /// Per certs URL; the inner async lock makes concurrent misses share one fetch.
    entries: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl KeyCache {
    pub fn new(min_interval: Duration) -> KeyCache {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            // A certs endpoint does not redirect; following one could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        KeyCache {
            http,
            min_interval,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    fn entry(&self, url: &str) -> Arc<tokio::sync::Mutex<Entry>> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.entry(url.to_string()).or_default().clone()
    }

    /// The verifying keys for `kid` (every key when the token names none). `Ok(empty)` means the
    /// kid is unknown even after a refetch, or a refetch was not allowed yet.
    pub async fn keys_for(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> Result<Vec<VerifyingKey<Sha256>>, FetchError> {
        let entry = self.entry(url);
        let mut entry = entry.lock().await;
        let known = |entry: &Entry| -> Vec<VerifyingKey<Sha256>> {
            match kid {
                Some(kid) => entry.keys.get(kid).cloned().into_iter().collect(),
                None => entry.keys.values().cloned().collect(),
            }
        };
        let found = known(&entry);
        if !found.is_empty() {
            return Ok(found);
        }
        let may_fetch = entry
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.min_interval);
        if !may_fetch {
            return match &entry.last_error {
                Some(err) => Err(err.clone()),
                None => Ok(Vec::new()),
            };
        }
        entry.fetched_at = Some(Instant::now());
        entry.fetches += 1;
        match self.fetch(url).await {
            Ok(keys) => {
                entry.keys = keys;
                entry.last_error = None;
                Ok(known(&entry))
            }
            Err(err) => {
                // The keys fetched before stay: a token they verify is still fine.
                entry.last_error = Some(err.clone());
                Err(err)
            }
        }
    }

    async fn fetch(&self, url: &str) -> Result<HashMap<String, VerifyingKey<Sha256>>, FetchError> {
        let fail =
            |what: String| FetchError(format!("cannot fetch signing keys from {url}: {what}"));
        let mut response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|err| fail(err.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| fail(err.to_string()))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_JWKS_BYTES {
                return Err(fail("the document is too large".into()));
            }
        }
        let document: Value =
            serde_json::from_slice(&body).map_err(|err| fail(format!("not JSON: {err}")))?;
        parse_jwks(&document).map_err(fail)
    }

    pub fn status(&self) -> Vec<SourceStatus> {
        let entries: Vec<(String, Arc<tokio::sync::Mutex<Entry>>)> = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(url, entry)| (url.clone(), entry.clone()))
            .collect();
        entries
            .into_iter()
            .filter_map(|(url, entry)| {
                // An entry being fetched right now is simply left out.
                let entry = entry.try_lock().ok()?;
                let mut kids: Vec<String> = entry.keys.keys().cloned().collect();
                kids.sort();
                Some(SourceStatus {
                    url,
                    fetches: entry.fetches,
                    kids,
                })
            })
            .collect()
    }
}

/// The RSA signing keys of a JWKS document, by kid. Encryption keys (`use: enc`, which Keycloak
/// also publishes) and other key types are skipped.
pub fn parse_jwks(document: &Value) -> Result<HashMap<String, VerifyingKey<Sha256>>, String> {
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" array")?;
    let mut out = HashMap::new();
    for key in keys {
        let field = |name: &str| key.get(name).and_then(Value::as_str);
        if field("kty") != Some("RSA") || field("use").is_some_and(|u| u != "sig") {
            continue;
        }
        if field("alg").is_some_and(|alg| alg != "RS256") {
            continue;
        }
        let (Some(kid), Some(n), Some(e)) = (field("kid"), field("n"), field("e")) else {
            continue;
        };
        let (Some(n), Some(e)) = (b64url_decode(n), b64url_decode(e)) else {
            continue;
        };
        let Ok(public) = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e))
        else {
            continue;
        };
        out.insert(kid.to_string(), VerifyingKey::<Sha256>::new(public));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySet;
    use serde_json::json;

    #[test]
    fn reads_rsa_signing_keys_and_skips_the_rest() {
        let keys = KeySet::new(crate::testkey::shared_key().unwrap());
        let mut document = keys.jwks();
        document["keys"].as_array_mut().unwrap().extend([
            json!({"kid": "enc", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}),
            json!({"kid": "ec", "kty": "EC", "crv": "P-256"}),
        ]);
        let parsed = parse_jwks(&document).unwrap();
        assert_eq!(parsed.len(), 1);
        assert!(parsed.contains_key(&keys.active_kid()));
        assert!(parse_jwks(&json!({"nope": []})).is_err());
    }
}
