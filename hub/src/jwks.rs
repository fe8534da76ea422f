//! Issuers' signing keys, fetched over HTTP from `<issuer>/protocol/openid-connect/certs` as a
//! resource server in front of Keycloak does (Centrifugo, KrakenD, Keycloak's own adapters):
//! cached per issuer, refetched when a token names an unknown `kid`, at most once per
//! `min_interval` so that tokens with made-up kids cannot hammer the issuer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rsa::pkcs1v15::VerifyingKey;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::watch;

use crate::auth::b64url_decode;

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
    /// A fetch under way: misses wait for it instead of starting their own.
    in_flight: Option<watch::Receiver<bool>>,
}

/// What status pages show about one key source.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    pub url: String,
    pub fetches: u64,
    pub kids: Vec<String>,
}

/// Per certs URL. The locks guard the maps only, never a fetch: a token whose key is known is
/// checked at once while another token's unknown kid is being looked up.
pub struct KeyCache {
    http: reqwest::Client,
    min_interval: Duration,
    entries: Mutex<BTreeMap<String, Arc<Mutex<Entry>>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What to do about a key that is not cached.
enum Miss {
    Found(Vec<VerifyingKey<Sha256>>),
    Refused(Result<Vec<VerifyingKey<Sha256>>, FetchError>),
    Wait(watch::Receiver<bool>),
    Fetch(watch::Sender<bool>),
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

    fn entry(&self, url: &str) -> Arc<Mutex<Entry>> {
        lock(&self.entries)
            .entry(url.to_string())
            .or_default()
            .clone()
    }

    fn known(entry: &Entry, kid: Option<&str>) -> Vec<VerifyingKey<Sha256>> {
        match kid {
            Some(kid) => entry.keys.get(kid).cloned().into_iter().collect(),
            None => entry.keys.values().cloned().collect(),
        }
    }

    fn next_step(&self, entry: &Mutex<Entry>, kid: Option<&str>, waited: bool) -> Miss {
        let mut entry = lock(entry);
        let found = Self::known(&entry, kid);
        if !found.is_empty() {
            return Miss::Found(found);
        }
        if let Some(in_flight) = &entry.in_flight {
            return Miss::Wait(in_flight.clone());
        }
        let may_fetch = !waited
            && entry
                .fetched_at
                .is_none_or(|at| at.elapsed() >= self.min_interval);
        if !may_fetch {
            return Miss::Refused(match &entry.last_error {
                Some(err) => Err(err.clone()),
                None => Ok(Vec::new()),
            });
        }
        let (done, in_flight) = watch::channel(false);
        entry.in_flight = Some(in_flight);
        entry.fetched_at = Some(Instant::now());
        entry.fetches += 1;
        Miss::Fetch(done)
    }

    /// The verifying keys for `kid` (every key when the token names none). `Ok(empty)` means the
    /// kid is unknown even after a refetch, or a refetch was not allowed yet.
    pub async fn keys_for(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> Result<Vec<VerifyingKey<Sha256>>, FetchError> {
        let entry = self.entry(url);
        let mut waited = false;
        loop {
            match self.next_step(&entry, kid, waited) {
                Miss::Found(keys) => return Ok(keys),
                Miss::Refused(result) => return result,
                Miss::Wait(mut in_flight) => {
                    // The fetch is bounded by FETCH_TIMEOUT. A closed channel means the fetching
                    // task went away mid-fetch: forget that fetch.
                    if in_flight.wait_for(|done| *done).await.is_err() {
                        let mut entry = lock(&entry);
                        if entry
                            .in_flight
                            .as_ref()
                            .is_some_and(|current| current.same_channel(&in_flight))
                        {
                            entry.in_flight = None;
                        }
                    }
                    waited = true;
                }
                Miss::Fetch(done) => {
                    let fetched = self.fetch(url).await;
                    let mut entry = lock(&entry);
                    entry.in_flight = None;
                    let result = match fetched {
                        Ok(keys) => {
                            entry.keys = keys;
                            entry.last_error = None;
                            Ok(Self::known(&entry, kid))
                        }
                        Err(err) => {
                            // The keys fetched before stay: a token they verify is still fine.
                            entry.last_error = Some(err.clone());
                            Err(err)
                        }
                    };
                    drop(entry);
                    let _ = done.send(true);
                    return result;
                }
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
        let entries: Vec<(String, Arc<Mutex<Entry>>)> = lock(&self.entries)
            .iter()
            .map(|(url, entry)| (url.clone(), entry.clone()))
            .collect();
        entries
            .into_iter()
            .map(|(url, entry)| {
                let entry = lock(&entry);
                let mut kids: Vec<String> = entry.keys.keys().cloned().collect();
                kids.sort();
                SourceStatus {
                    url,
                    fetches: entry.fetches,
                    kids,
                }
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
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use rsa::traits::PublicKeyParts;
    use serde_json::json;

    #[test]
    fn reads_rsa_signing_keys_and_skips_the_rest() {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let b64 = |n: &BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        let document = json!({"keys": [
            {"kid": "sig", "kty": "RSA", "use": "sig", "alg": "RS256", "n": b64(key.n()), "e": b64(key.e())},
            {"kid": "enc", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kid": "ec", "kty": "EC", "crv": "P-256"},
        ]});
        let parsed = parse_jwks(&document).unwrap();
        assert_eq!(parsed.len(), 1);
        assert!(parsed.contains_key("sig"));
        assert!(parse_jwks(&json!({"nope": []})).is_err());
    }
}
