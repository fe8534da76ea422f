//! The authorization callback: finding the response in the redirect URL, the stored record of
//! the login it answers, and what to do with it.
//!
//! Parsing follows keycloak-js exactly, so that an app's own query and fragment survive the
//! same way: the part chosen by the response mode is split on `&` and walked from the end; the
//! last occurrence of each recognised key is taken out, and every other segment (earlier
//! duplicates, app routes like `/route?tab=2`, empty segments) stays, byte for byte. keycloak-js
//! writes each empty segment back as one `&` in front of what follows; so do we.

use crate::prelude::*;

use super::error::{Error, ErrorCode};
use super::json::{self, Value};
use super::options::{Flow, ResponseMode};
use super::text;

/// The keys every flow recognises.
const ERROR_KEYS: [&str; 3] = ["error", "error_description", "error_uri"];
const STANDARD_KEYS: [&str; 6] = [
    "code",
    "state",
    "session_state",
    "kc_action_status",
    "kc_action",
    "iss",
];
const IMPLICIT_KEYS: [&str; 9] = [
    "access_token",
    "token_type",
    "id_token",
    "state",
    "session_state",
    "expires_in",
    "kc_action_status",
    "kc_action",
    "iss",
];

fn recognises(flow: Flow, key: &str) -> bool {
    ERROR_KEYS.contains(&key)
        || match flow {
            Flow::Standard => STANDARD_KEYS.contains(&key),
            Flow::Implicit => IMPLICIT_KEYS.contains(&key),
            Flow::Hybrid => key == "code" || IMPLICIT_KEYS.contains(&key),
        }
}

/// The authorization response's parameters (the last occurrence of each).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub session_state: Option<String>,
    pub kc_action_status: Option<String>,
    pub kc_action: Option<String>,
    pub iss: Option<String>,
    pub access_token: Option<String>,
    pub token_type: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
}

impl CallbackParams {
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "code" => &mut self.code,
            "state" => &mut self.state,
            "session_state" => &mut self.session_state,
            "kc_action_status" => &mut self.kc_action_status,
            "kc_action" => &mut self.kc_action,
            "iss" => &mut self.iss,
            "access_token" => &mut self.access_token,
            "token_type" => &mut self.token_type,
            "id_token" => &mut self.id_token,
            "expires_in" => &mut self.expires_in,
            "error" => &mut self.error,
            "error_description" => &mut self.error_description,
            "error_uri" => &mut self.error_uri,
            _ => return None,
        })
    }

    /// keycloak-js tests these for truthiness: an empty value counts as absent.
    fn has(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| !v.is_empty())
    }

    /// The `{error, error_description}` of an error response, as a server error.
    pub fn oauth_error(&self) -> Option<Error> {
        self.error
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(|e| Error::oauth(e, self.error_description.as_deref(), None))
    }
}

/// A recognised authorization response and the URL to show once it is taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCallback {
    pub params: CallbackParams,
    /// The page's URL without the response: pass it to `history.replaceState`.
    pub new_url: String,
}

/// The first name/value pair `new URLSearchParams(segment)` would yield: a leading `?` is
/// dropped, the pair splits at the first `=`, both halves are form-decoded.
fn first_entry(segment: &str) -> Option<(String, String)> {
    let segment = text::strip_prefix(segment, b'?').unwrap_or(segment);
    if segment.is_empty() {
        return None;
    }
    let (name, value) = text::split_once(segment, b'=').unwrap_or((segment, ""));
    Some((
        super::encode::form_decode(name),
        super::encode::form_decode(value),
    ))
}

/// Takes the recognised parameters out of `part` (a query with its `?`, or a fragment without
/// its `#`). Returns them and what is left, built as keycloak-js builds it.
fn extract(part: &str, flow: Flow) -> (CallbackParams, String) {
    let mut params = CallbackParams::default();
    // The rest is assembled back to front, as keycloak-js prepends; reversed at the end.
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest_len = 0;
    for segment in text::split(part, b'&').rev() {
        let Some((key, value)) = first_entry(segment) else {
            pieces.push("&");
            rest_len += 1;
            continue;
        };
        if recognises(flow, &key) {
            if let Some(slot) = params.slot(&key) {
                if slot.is_none() {
                    *slot = Some(value);
                    continue;
                }
            }
        }
        if rest_len > 0 {
            pieces.push("&");
        }
        pieces.push(segment);
        rest_len += segment.len() + 1;
    }
    let rest: String = pieces.into_iter().rev().collect();
    (params, rest)
}

/// Finds an authorization response in `url` (the page's `location.href`, or the URL the silent
/// check-sso page posts), reading only the part `mode` names. None when there is none: no
/// `state`, or neither `code` nor `error` (nor `access_token` in the implicit flow).
pub fn parse_callback(url: &str, mode: ResponseMode, flow: Flow) -> Option<ParsedCallback> {
    let (before_fragment, fragment) = match text::split_once(url, b'#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (base, query) = match text::split_once(before_fragment, b'?') {
        Some((base, query)) => (base, Some(query)),
        None => (before_fragment, None),
    };

    let (params, new_url) = match mode {
        ResponseMode::Query => {
            // `url.searchParams.size > 0`: some segment of the query is not empty.
            let query = query.filter(|q| text::split(q, b'&').any(|s| !s.is_empty()))?;
            let mut search = String::with_capacity(query.len() + 1);
            search.push('?');
            search.push_str(query);
            let (params, rest) = extract(&search, flow);
            let mut new_url = String::with_capacity(url.len());
            new_url.push_str(base);
            // The `search` setter: empty removes the `?`; else one leading `?` is dropped.
            if !rest.is_empty() {
                new_url.push('?');
                new_url.push_str(text::strip_prefix(&rest, b'?').unwrap_or(&rest));
            }
            if let Some(fragment) = fragment {
                new_url.push('#');
                new_url.push_str(fragment);
            }
            (params, new_url)
        }
        ResponseMode::Fragment => {
            let fragment = fragment.filter(|f| !f.is_empty())?;
            let (params, rest) = extract(fragment, flow);
            let mut new_url = before_fragment.to_owned();
            // The `hash` setter: empty removes the `#`; else one leading `#` is dropped.
            if !rest.is_empty() {
                new_url.push('#');
                new_url.push_str(text::strip_prefix(&rest, b'#').unwrap_or(&rest));
            }
            (params, new_url)
        }
    };

    let answered = match flow {
        Flow::Standard | Flow::Hybrid => CallbackParams::has(&params.code),
        Flow::Implicit => CallbackParams::has(&params.access_token),
    };
    let accepted =
        (answered || CallbackParams::has(&params.error)) && CallbackParams::has(&params.state);
    accepted.then_some(ParsedCallback { params, new_url })
}

/// Puts the app's fragment, kept aside when the login started, back on the cleaned URL. A URL
/// that still has a fragment of its own keeps it.
pub fn restore_app_fragment(new_url: &str, app_fragment: Option<&str>) -> String {
    let (base, own) = match text::split_once(new_url, b'#') {
        Some((base, own)) => (base, Some(own)),
        None => (new_url, None),
    };
    match app_fragment.filter(|f| !f.is_empty()) {
        Some(fragment) if own.is_none_or(str::is_empty) => {
            let mut out = String::with_capacity(base.len() + fragment.len() + 1);
            out.push_str(base);
            out.push('#');
            out.push_str(fragment);
            out
        }
        _ => new_url.to_owned(),
    }
}

/// Where the stored record of a login lives: `kc-callback-<state>`.
pub const STORAGE_KEY_PREFIX: &str = "kc-callback-";

/// The storage key of the record for `state`.
pub fn storage_key(state: &str) -> String {
    let mut key = String::with_capacity(STORAGE_KEY_PREFIX.len() + state.len());
    key.push_str(STORAGE_KEY_PREFIX);
    key.push_str(state);
    key
}

/// Whether a storage key belongs to us (for sweeping and for clearing on a quota error).
pub fn is_callback_key(key: &str) -> bool {
    key.starts_with(STORAGE_KEY_PREFIX)
}

/// Whether a stored entry should be swept: unparseable, without a numeric `expires`, or
/// expired (keycloak-js's rule, so entries either adapter wrote are swept alike).
pub fn is_stale_entry(value: &str, now_ms: f64) -> bool {
    match json::parse(value) {
        Ok(v) => v.get_f64("expires").is_none_or(|expires| expires < now_ms),
        Err(_) => true,
    }
}

/// What is stored while the user is at the login page: enough to check and finish the
/// callback. The JSON is keycloak-js's, plus `appFragment`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackRecord {
    pub state: String,
    pub nonce: String,
    /// The redirect URI sent, byte for byte: the code exchange must repeat it.
    pub redirect_uri: String,
    /// The login options as given, to log in again after `authentication_expired`.
    pub login_options: Option<Value>,
    pub prompt: Option<String>,
    pub pkce_code_verifier: Option<String>,
    /// Milliseconds since the epoch.
    pub expires: f64,
    /// The page's fragment, kept out of the redirect URI.
    pub app_fragment: Option<String>,
}

/// A [`CallbackRecord`] made of borrowed parts, to be written without copying them.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub redirect_uri: &'a str,
    pub login_options: Option<&'a Value>,
    pub prompt: Option<&'a str>,
    pub pkce_code_verifier: Option<&'a str>,
    pub expires: f64,
    pub app_fragment: Option<&'a str>,
}

impl RecordRef<'_> {
    /// The record's JSON: keycloak-js's members in its order, then `appFragment`. Absent
    /// optional members are left out.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"state\":");
        json::write_string(self.state, &mut out);
        out.push_str(",\"nonce\":");
        json::write_string(self.nonce, &mut out);
        out.push_str(",\"redirectUri\":");
        json::write_string(self.redirect_uri, &mut out);
        if let Some(options) = self.login_options {
            out.push_str(",\"loginOptions\":");
            options.write_json(&mut out);
        }
        let optional = [
            (",\"prompt\":", self.prompt),
            (",\"pkceCodeVerifier\":", self.pkce_code_verifier),
        ];
        for (member, value) in optional {
            if let Some(value) = value {
                out.push_str(member);
                json::write_string(value, &mut out);
            }
        }
        out.push_str(",\"expires\":");
        // Milliseconds since the epoch, from `Date.now()`: a whole number.
        super::number::push_u64(self.expires as u64, &mut out);
        if let Some(fragment) = self.app_fragment {
            out.push_str(",\"appFragment\":");
            json::write_string(fragment, &mut out);
        }
        out.push('}');
        out
    }
}

fn unreadable() -> Error {
    Error::new(
        ErrorCode::InvalidState,
        "The stored login state is unreadable.",
    )
}

impl CallbackRecord {
    /// A record is good for one hour, as in keycloak-js.
    pub const LIFETIME_MS: f64 = 3_600_000.0;

    /// The key to store this record under.
    pub fn storage_key(&self) -> String {
        storage_key(&self.state)
    }

    pub fn to_json(&self) -> String {
        RecordRef {
            state: &self.state,
            nonce: &self.nonce,
            redirect_uri: &self.redirect_uri,
            login_options: self.login_options.as_ref(),
            prompt: self.prompt.as_deref(),
            pkce_code_verifier: self.pkce_code_verifier.as_deref(),
            expires: self.expires,
            app_fragment: self.app_fragment.as_deref(),
        }
        .to_json()
    }

    pub fn from_json(text: &str) -> Result<Self, Error> {
        let v = json::parse(text).map_err(|_| unreadable())?;
        let text_of = |name: &str| v.get_str(name).map(str::to_owned);
        let optional = |name: &str| -> Result<Option<String>, Error> {
            match v.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(unreadable()),
            }
        };
        Ok(CallbackRecord {
            state: text_of("state").ok_or_else(unreadable)?,
            nonce: text_of("nonce").ok_or_else(unreadable)?,
            redirect_uri: text_of("redirectUri").ok_or_else(unreadable)?,
            login_options: v.get_object("loginOptions").cloned(),
            prompt: optional("prompt")?,
            pkce_code_verifier: optional("pkceCodeVerifier")?,
            expires: v.get_f64("expires").ok_or_else(unreadable)?,
            app_fragment: optional("appFragment")?,
        })
    }

    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.expires < now_ms
    }

    /// Reads the record stored under the callback's state (already removed from storage: a
    /// record is single-use) and checks that it answers this state and has not expired.
    pub fn take(stored: &str, state: &str, now_ms: f64) -> Result<Self, Error> {
        let record = CallbackRecord::from_json(stored)?;
        if record.state != state {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "The stored login state belongs to another login.",
            ));
        }
        if record.is_expired(now_ms) {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "The login state has expired.",
            ));
        }
        Ok(record)
    }
}

/// RFC 9207: when the response names its issuer, it must be the one we sent the user to. Without
/// an expected issuer (metadata lacking `issuer`) nothing can be checked.
pub fn check_issuer(iss: Option<&str>, expected: Option<&str>) -> Result<(), Error> {
    match (iss, expected) {
        (Some(iss), Some(expected)) if !same_issuer(iss, expected) => Err(Error::new(
            ErrorCode::InvalidIssuer,
            "Invalid issuer in the authorization response.",
        )),
        _ => Ok(()),
    }
}

/// RFC 9207 §2.4: a server known to send `iss` in every authorization response (Keycloak; a
/// provider whose metadata sets `authorization_response_iss_parameter_supported`) must send it,
/// or a response from another server could be passed off as its own.
pub fn require_issuer(iss: Option<&str>, required: bool) -> Result<(), Error> {
    if required && iss.is_none() {
        return Err(Error::new(
            ErrorCode::InvalidIssuer,
            "The authorization response does not name its issuer (iss).",
        ));
    }
    Ok(())
}

/// Whether two issuer URLs name the same server and realm. They may differ where URLs are not
/// case-sensitive (scheme and host), by a default port (`:443`, `:80`) and by one trailing
/// slash: a configured `url` of `https://KC.example.com:443/` still matches the issuer that
/// Keycloak writes, `https://kc.example.com/realms/...`. The path must be equal.
fn same_issuer(a: &str, b: &str) -> bool {
    normal_issuer(a) == normal_issuer(b)
}

/// `url` with its scheme and authority (up to the path) in lower case, without the default
/// port of `https` or `http`, and without one trailing slash.
fn normal_issuer(url: &str) -> Vec<u8> {
    let url = text::strip_suffix(url, b'/').unwrap_or(url).as_bytes();
    let mut out = Vec::with_capacity(url.len());
    let mut slashes = 0;
    let mut path: &[u8] = &[];
    for (at, byte) in url.iter().enumerate() {
        slashes += usize::from(*byte == b'/');
        if slashes == 3 {
            path = url.get(at..).unwrap_or_default();
            break;
        }
        out.push(byte.to_ascii_lowercase());
    }
    for (scheme, port) in [(&b"https:"[..], &b":443"[..]), (b"http:", b":80")] {
        if out.starts_with(scheme) && out.ends_with(port) {
            out.truncate(out.len() - port.len());
        }
    }
    out.extend_from_slice(path);
    out
}

/// The nonce check after a token response: with `useNonce`, an ID token's `nonce` must equal
/// the stored one (a missing nonce fails too). No ID token, nothing to check.
pub fn check_nonce(
    use_nonce: bool,
    id_token_claims: Option<&Value>,
    stored_nonce: &str,
) -> Result<(), Error> {
    match id_token_claims {
        Some(claims) if use_nonce && claims.get_str("nonce") != Some(stored_nonce) => {
            Err(Error::invalid_nonce())
        }
        _ => Ok(()),
    }
}

/// What to do with a callback whose state matched a stored record (keycloak-js's
/// `processCallback`, after `onActionUpdate` has been told about `kc_action_status`).
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackAction {
    /// An error answering `prompt=none`: not logged in, and that is fine.
    Unauthenticated,
    /// `authentication_expired`: log in again with the stored options (`Null` when none).
    LoginAgain(Value),
    /// Any other error: call `onAuthError` with it and reject.
    Fail(Error),
    /// Success. Implicit and hybrid: set the tokens of the response at once (then
    /// `onAuthSuccess`). Standard and hybrid: exchange the code.
    Tokens {
        implicit: Option<ImplicitTokens>,
        code: Option<String>,
    },
}

/// The tokens an implicit or hybrid response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplicitTokens {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
}

/// Decides what a callback means. `expected_issuer` is [`crate::core::config::Endpoints::issuer`],
/// `issuer_required` [`crate::core::config::Endpoints::issuer_required`].
pub fn plan_callback(
    params: &CallbackParams,
    record: &CallbackRecord,
    flow: Flow,
    expected_issuer: Option<&str>,
    issuer_required: bool,
) -> CallbackAction {
    let iss = params.iss.as_deref();
    if let Err(err) =
        require_issuer(iss, issuer_required).and_then(|()| check_issuer(iss, expected_issuer))
    {
        return CallbackAction::Fail(err);
    }
    if let Some(err) = params.oauth_error() {
        if record.prompt.as_deref() == Some("none") {
            return CallbackAction::Unauthenticated;
        }
        if params.error_description.as_deref() == Some("authentication_expired") {
            return CallbackAction::LoginAgain(record.login_options.clone().unwrap_or(Value::Null));
        }
        return CallbackAction::Fail(err);
    }
    let implicit = (flow != Flow::Standard
        && (CallbackParams::has(&params.access_token) || CallbackParams::has(&params.id_token)))
    .then(|| ImplicitTokens {
        access_token: params.access_token.clone().filter(|t| !t.is_empty()),
        id_token: params.id_token.clone().filter(|t| !t.is_empty()),
    });
    let code = params
        .code
        .clone()
        .filter(|c| flow != Flow::Implicit && !c.is_empty());
    CallbackAction::Tokens { implicit, code }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::parse;

    fn frag(url: &str) -> Option<ParsedCallback> {
        parse_callback(url, ResponseMode::Fragment, Flow::Standard)
    }

    fn query(url: &str) -> Option<ParsedCallback> {
        parse_callback(url, ResponseMode::Query, Flow::Standard)
    }

    /// (new URL, code, state) of a fragment-mode standard-flow callback.
    fn frag_parts(url: &str) -> (String, String, String) {
        let p = frag(url).unwrap_or_else(|| panic!("not a callback: {url}"));
        (
            p.new_url,
            p.params.code.unwrap_or_default(),
            p.params.state.unwrap_or_default(),
        )
    }

    #[test]
    fn plain_fragment_callback() {
        let p = frag(
            "http://app/page#state=s1&session_state=ss&iss=http%3A%2F%2Fkc%2Frealms%2Fd&code=c1",
        )
        .unwrap();
        assert_eq!(p.new_url, "http://app/page");
        assert_eq!(p.params.state.as_deref(), Some("s1"));
        assert_eq!(p.params.session_state.as_deref(), Some("ss"));
        assert_eq!(p.params.iss.as_deref(), Some("http://kc/realms/d"));
        assert_eq!(p.params.code.as_deref(), Some("c1"));
    }

    #[test]
    fn fragment_cases_keep_the_app_part_byte_for_byte() {
        let cases: &[(&str, &str)] = &[
            // An app route with its own query before the response.
            (
                "http://app/#/route?tab=2&state=s&code=c",
                "http://app/#/route?tab=2",
            ),
            // A path-style fragment.
            ("http://app/#/a/b/c&state=s&code=c", "http://app/#/a/b/c"),
            // Unrecognised parameters in between stay where they were.
            (
                "http://app/#x=1&state=s&y=%20+2&code=c&z",
                "http://app/#x=1&y=%20+2&z",
            ),
            // An earlier duplicate stays; the last occurrence wins.
            (
                "http://app/#code=old&state=s&code=new",
                "http://app/#code=old",
            ),
            (
                "http://app/#state=s0&code=c&state=s",
                "http://app/#state=s0",
            ),
            // A leading '?' in the fragment is part of the app's text.
            ("http://app/#?tab=2&state=s&code=c", "http://app/#?tab=2"),
            // A leading '?' on a recognised key still makes it recognised.
            ("http://app/#?state=s&code=c", "http://app/"),
            // Repeated '&' between kept segments survive.
            ("http://app/#a&&b&state=s&code=c", "http://app/#a&&b"),
            // keycloak-js writes an empty segment as '&' before what follows.
            ("http://app/#a&&state=s&code=c", "http://app/#a&&"),
            ("http://app/#&state=s&code=c", "http://app/#&"),
            ("http://app/#state=s&code=c&", "http://app/#&"),
            // The query is never touched in fragment mode.
            (
                "http://app/p?code=q&state=q#state=s&code=c",
                "http://app/p?code=q&state=q",
            ),
            // Unencoded app characters stay as they are.
            (
                "http://app/#/r?q=a%2Fb|c&state=s&code=c",
                "http://app/#/r?q=a%2Fb|c",
            ),
            // A '#' inside the fragment, kept; one leading '#' is dropped by the hash setter.
            ("http://app/#x#y&state=s&code=c", "http://app/#x#y"),
            ("http://app/##x&state=s&code=c", "http://app/#x"),
        ];
        for (url, expected) in cases {
            let (new_url, code, state) = frag_parts(url);
            assert_eq!(&new_url, expected, "{url}");
            assert!(!code.is_empty() && !state.is_empty(), "{url}");
        }
        assert_eq!(frag_parts("http://app/#code=old&state=s&code=new").1, "new");
        assert_eq!(frag_parts("http://app/#state=s0&code=c&state=s").2, "s");
    }

    #[test]
    fn values_and_keys_are_form_decoded() {
        let p = frag("http://app/#st%61te=a+b%2Fc&code=%E2%82%AC&error_description=x").unwrap();
        assert_eq!(p.params.state.as_deref(), Some("a b/c"));
        assert_eq!(p.params.code.as_deref(), Some("€"));
        assert_eq!(p.params.error_description.as_deref(), Some("x"));
        // A key without '=' has an empty value; it is still taken out.
        let p = frag("http://app/#state=s&code=c&session_state").unwrap();
        assert_eq!(p.params.session_state.as_deref(), Some(""));
        assert_eq!(p.new_url, "http://app/");
    }

    #[test]
    fn responses_that_are_not_callbacks_are_ignored() {
        for url in [
            "http://app/",
            "http://app/#",
            "http://app/#/route",
            "http://app/#code=c",
            "http://app/#state=s",
            "http://app/#state=&code=c",
            "http://app/#state=s&code=",
            "http://app/#state=s&access_token=t",
            "http://app/?state=s&code=c",
        ] {
            assert_eq!(frag(url), None, "{url}");
        }
    }

    #[test]
    fn error_responses_are_callbacks() {
        let p = frag("http://app/#error=login_required&error_description=Login+required&state=s")
            .unwrap();
        assert_eq!(p.new_url, "http://app/");
        assert_eq!(p.params.error.as_deref(), Some("login_required"));
        let err = p.params.oauth_error().unwrap();
        assert_eq!(err.code, ErrorCode::ServerError);
        assert_eq!(err.error.as_deref(), Some("login_required"));
        assert_eq!(err.error_description.as_deref(), Some("Login required"));
        assert_eq!(err.status, None);
        let p = frag("http://app/#error=access_denied&error_uri=http%3A%2F%2Fx&state=s").unwrap();
        assert_eq!(p.params.error_uri.as_deref(), Some("http://x"));
        assert_eq!(CallbackParams::default().oauth_error(), None);
    }

    #[test]
    fn kc_action_status_is_read() {
        let p =
            frag("http://app/#kc_action_status=success&kc_action=UPDATE_PASSWORD&state=s&code=c")
                .unwrap();
        assert_eq!(p.params.kc_action_status.as_deref(), Some("success"));
        assert_eq!(p.params.kc_action.as_deref(), Some("UPDATE_PASSWORD"));
        assert_eq!(p.new_url, "http://app/");
    }

    #[test]
    fn query_mode_cases() {
        let cases: &[(&str, &str)] = &[
            ("http://app/p?state=s&code=c", "http://app/p"),
            ("http://app/p?x=1&state=s&code=c", "http://app/p?x=1"),
            ("http://app/p?state=s&x=1&code=c", "http://app/p?x=1"),
            (
                "http://app/p?state=s&code=c#/route?tab=2",
                "http://app/p#/route?tab=2",
            ),
            ("http://app/p?state=s&code=c#", "http://app/p#"),
            (
                "http://app/p?code=old&state=s&code=c",
                "http://app/p?code=old",
            ),
            ("http://app/p?&state=s&code=c", "http://app/p?&"),
            ("http://app/p?a&&b&state=s&code=c", "http://app/p?a&&b"),
            ("http://app/p??x=1&state=s&code=c", "http://app/p??x=1"),
            (
                "http://app/p?x=1&state=s&code=c&y=2#f",
                "http://app/p?x=1&y=2#f",
            ),
        ];
        for (url, expected) in cases {
            let p = query(url).unwrap_or_else(|| panic!("not a callback: {url}"));
            assert_eq!(&p.new_url, expected, "{url}");
            assert_eq!(p.params.state.as_deref(), Some("s"), "{url}");
        }
        for url in [
            "http://app/p",
            "http://app/p?",
            "http://app/p?&&",
            "http://app/p#state=s&code=c",
            "http://app/p?x=1",
        ] {
            assert_eq!(query(url), None, "{url}");
        }
    }

    #[test]
    fn implicit_flow_keys() {
        let url = "http://app/#access_token=at&token_type=Bearer&id_token=it&state=s&expires_in=300&code=c";
        let p = parse_callback(url, ResponseMode::Fragment, Flow::Implicit).unwrap();
        assert_eq!(p.params.access_token.as_deref(), Some("at"));
        assert_eq!(p.params.token_type.as_deref(), Some("Bearer"));
        assert_eq!(p.params.id_token.as_deref(), Some("it"));
        assert_eq!(p.params.expires_in.as_deref(), Some("300"));
        // `code` is not an implicit-flow key: it stays in the URL.
        assert_eq!(p.params.code, None);
        assert_eq!(p.new_url, "http://app/#code=c");
        // Implicit needs an access token (or an error).
        assert_eq!(
            parse_callback(
                "http://app/#id_token=it&state=s",
                ResponseMode::Fragment,
                Flow::Implicit
            ),
            None
        );
        assert!(parse_callback(
            "http://app/#error=e&state=s",
            ResponseMode::Fragment,
            Flow::Implicit
        )
        .is_some());
        // The standard flow leaves implicit keys alone.
        let p = frag("http://app/#access_token=at&state=s&code=c").unwrap();
        assert_eq!(p.params.access_token, None);
        assert_eq!(p.new_url, "http://app/#access_token=at");
    }

    #[test]
    fn hybrid_flow_keys() {
        let url = "http://app/#access_token=at&id_token=it&state=s&code=c&session_state=x";
        let p = parse_callback(url, ResponseMode::Fragment, Flow::Hybrid).unwrap();
        assert_eq!(p.params.code.as_deref(), Some("c"));
        assert_eq!(p.params.access_token.as_deref(), Some("at"));
        assert_eq!(p.new_url, "http://app/");
        // Hybrid needs a code (or an error), like the standard flow.
        assert_eq!(
            parse_callback(
                "http://app/#access_token=at&state=s",
                ResponseMode::Fragment,
                Flow::Hybrid
            ),
            None
        );
    }

    #[test]
    fn malformed_urls_never_panic() {
        let url = "http://app/p?x=%E2%82&state=s#/r?t=%&code=c&state=s&&%zz=1";
        for end in 0..=url.len() {
            for mode in [ResponseMode::Query, ResponseMode::Fragment] {
                for flow in [Flow::Standard, Flow::Implicit, Flow::Hybrid] {
                    let _ = parse_callback(&url[..end], mode, flow);
                    let _ = parse_callback(&url[end..], mode, flow);
                }
            }
        }
        assert!(frag("€#state=é&code=😀").is_some());
    }

    #[test]
    fn app_fragment_is_restored() {
        assert_eq!(
            restore_app_fragment("http://app/p", Some("/route?tab=2")),
            "http://app/p#/route?tab=2"
        );
        assert_eq!(
            restore_app_fragment("http://app/p#", Some("/r")),
            "http://app/p#/r"
        );
        assert_eq!(
            restore_app_fragment("http://app/p#own", Some("/r")),
            "http://app/p#own"
        );
        assert_eq!(restore_app_fragment("http://app/p", None), "http://app/p");
        assert_eq!(
            restore_app_fragment("http://app/p", Some("")),
            "http://app/p"
        );
        assert_eq!(
            restore_app_fragment("http://app/p?x=1", Some("a#b")),
            "http://app/p?x=1#a#b"
        );
    }

    fn record() -> CallbackRecord {
        CallbackRecord {
            state: "s-1".into(),
            nonce: "n-1".into(),
            redirect_uri: "http://app/p?x=\"1\"".into(),
            login_options: Some(parse(r#"{"prompt":"login","acr":{"values":["a"]}}"#).unwrap()),
            prompt: Some("login".into()),
            pkce_code_verifier: Some("v".repeat(96)),
            expires: 1_700_000_000_000.0,
            app_fragment: Some("/route?tab=2".into()),
        }
    }

    #[test]
    fn record_json_round_trips_in_keycloak_js_shape() {
        let r = record();
        let text = r.to_json();
        assert_eq!(
            text,
            format!(
                r#"{{"state":"s-1","nonce":"n-1","redirectUri":"http://app/p?x=\"1\"","loginOptions":{{"prompt":"login","acr":{{"values":["a"]}}}},"prompt":"login","pkceCodeVerifier":"{}","expires":1700000000000,"appFragment":"/route?tab=2"}}"#,
                "v".repeat(96)
            )
        );
        assert_eq!(CallbackRecord::from_json(&text).unwrap(), r);
        assert_eq!(r.storage_key(), "kc-callback-s-1");

        let minimal = CallbackRecord {
            login_options: None,
            prompt: None,
            pkce_code_verifier: None,
            app_fragment: None,
            ..record()
        };
        let text = minimal.to_json();
        assert_eq!(
            text,
            r#"{"state":"s-1","nonce":"n-1","redirectUri":"http://app/p?x=\"1\"","expires":1700000000000}"#
        );
        assert_eq!(CallbackRecord::from_json(&text).unwrap(), minimal);
    }

    #[test]
    fn reads_records_keycloak_js_wrote() {
        let text = r#"{"state":"abc","nonce":"n","redirectUri":"http://app/#/x","loginOptions":{"scope":"email"},"pkceCodeVerifier":"pv","expires":5}"#;
        let r = CallbackRecord::from_json(text).unwrap();
        assert_eq!(r.redirect_uri, "http://app/#/x");
        assert_eq!(r.prompt, None);
        assert_eq!(r.app_fragment, None);
        assert_eq!(r.login_options.unwrap().get_str("scope"), Some("email"));
    }

    #[test]
    fn unreadable_records_are_errors() {
        for text in [
            "",
            "{",
            "null",
            "[]",
            r#"{"nonce":"n","redirectUri":"r","expires":1}"#,
            r#"{"state":"s","redirectUri":"r","expires":1}"#,
            r#"{"state":"s","nonce":"n","expires":1}"#,
            r#"{"state":"s","nonce":"n","redirectUri":"r"}"#,
            r#"{"state":"s","nonce":"n","redirectUri":"r","expires":"1"}"#,
            r#"{"state":"s","nonce":"n","redirectUri":"r","expires":1,"prompt":1}"#,
        ] {
            let err = CallbackRecord::from_json(text).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidState, "{text}");
        }
        let full = record().to_json();
        for end in 0..full.len() {
            let _ = CallbackRecord::from_json(&full[..end]);
        }
    }

    #[test]
    fn take_checks_state_and_expiry() {
        let text = record().to_json();
        let now = 1_700_000_000_000.0;
        assert_eq!(CallbackRecord::take(&text, "s-1", now).unwrap(), record());
        assert_eq!(
            CallbackRecord::take(&text, "s-2", now).unwrap_err().code,
            ErrorCode::InvalidState
        );
        let expired = CallbackRecord::take(&text, "s-1", now + 1.0).unwrap_err();
        assert_eq!(expired.code, ErrorCode::InvalidState);
        assert_eq!(expired.message, "The login state has expired.");
        assert!(!record().is_expired(now));
        assert!(record().is_expired(now + 1.0));
    }

    #[test]
    fn storage_helpers() {
        assert_eq!(storage_key("abc"), "kc-callback-abc");
        assert!(is_callback_key("kc-callback-abc"));
        assert!(is_callback_key("kc-callback-"));
        assert!(!is_callback_key("kc-test"));
        assert!(!is_callback_key("x-kc-callback-abc"));
        assert!(is_stale_entry("not json", 0.0));
        assert!(is_stale_entry("{}", 0.0));
        assert!(is_stale_entry(r#"{"expires":"9"}"#, 0.0));
        assert!(is_stale_entry("5", 0.0));
        assert!(is_stale_entry(r#"{"expires":99}"#, 100.0));
        assert!(!is_stale_entry(r#"{"expires":100}"#, 100.0));
        assert!(!is_stale_entry(&record().to_json(), 0.0));
    }

    #[test]
    fn issuer_check() {
        let expected = Some("http://kc/realms/demo");
        assert!(check_issuer(None, expected).is_ok());
        assert!(check_issuer(Some("http://kc/realms/demo"), expected).is_ok());
        assert!(check_issuer(Some("http://kc/realms/demo/"), expected).is_ok());
        assert!(check_issuer(Some("anything"), None).is_ok());
        let err = check_issuer(Some("http://evil/realms/demo"), expected).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidIssuer);
        assert!(check_issuer(Some("http://kc/realms/demo2"), expected).is_err());
    }

    #[test]
    fn issuer_check_ignores_what_urls_do_not_distinguish() {
        let keycloak = Some("https://kc.example.com/realms/demo");
        for same in [
            "https://KC.Example.com/realms/demo",
            "HTTPS://kc.example.com/realms/demo",
            "https://kc.example.com:443/realms/demo",
            "https://kc.example.com:443/realms/demo/",
        ] {
            assert!(check_issuer(Some(same), keycloak).is_ok(), "{same}");
        }
        assert!(check_issuer(Some("http://kc:80/realms/d"), Some("http://kc/realms/d")).is_ok());
        assert!(check_issuer(Some("http://kc:8080"), Some("http://kc:8080/")).is_ok());
        for other in [
            "https://kc.example.com/realms/Demo",
            "https://kc.example.com:8443/realms/demo",
            "http://kc.example.com/realms/demo",
            "https://kc.example.com:80/realms/demo",
            "https://kc.example.com.evil/realms/demo",
            "https://kc.example.com/realms/demo/x",
            "kc.example.com/realms/demo",
            "",
        ] {
            assert!(check_issuer(Some(other), keycloak).is_err(), "{other}");
        }
        assert!(check_issuer(Some("urn:issuer/"), Some("urn:issuer")).is_ok());
    }

    #[test]
    fn nonce_check() {
        let claims = parse(r#"{"nonce":"n-1"}"#).unwrap();
        assert!(check_nonce(true, Some(&claims), "n-1").is_ok());
        let err = check_nonce(true, Some(&claims), "n-2").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidNonce);
        assert_eq!(err.message, "Invalid nonce.");
        assert!(check_nonce(true, Some(&parse("{}").unwrap()), "n-1").is_err());
        assert!(check_nonce(false, Some(&claims), "n-2").is_ok());
        assert!(check_nonce(true, None, "n-1").is_ok());
    }

    fn params(url: &str, flow: Flow) -> CallbackParams {
        parse_callback(url, ResponseMode::Fragment, flow)
            .unwrap()
            .params
    }

    #[test]
    fn plans_follow_keycloak_js() {
        let r = record();
        let iss = Some("http://kc/realms/d");

        let code = params("http://app/#state=s-1&code=c", Flow::Standard);
        assert_eq!(
            plan_callback(&code, &r, Flow::Standard, iss, false),
            CallbackAction::Tokens {
                implicit: None,
                code: Some("c".into())
            }
        );

        let err = params("http://app/#error=access_denied&state=s-1", Flow::Standard);
        match plan_callback(&err, &r, Flow::Standard, iss, false) {
            CallbackAction::Fail(e) => {
                assert_eq!(e.code, ErrorCode::ServerError);
                assert_eq!(e.error.as_deref(), Some("access_denied"));
            }
            other => panic!("{other:?}"),
        }

        let silent = CallbackRecord {
            prompt: Some("none".into()),
            ..record()
        };
        let login_required = params("http://app/#error=login_required&state=s-1", Flow::Standard);
        assert_eq!(
            plan_callback(&login_required, &silent, Flow::Standard, iss, false),
            CallbackAction::Unauthenticated
        );

        let expired = params(
            "http://app/#error=temporarily_unavailable&error_description=authentication_expired&state=s-1",
            Flow::Standard,
        );
        assert_eq!(
            plan_callback(&expired, &r, Flow::Standard, iss, false),
            CallbackAction::LoginAgain(r.login_options.clone().unwrap())
        );
        let no_options = CallbackRecord {
            login_options: None,
            ..record()
        };
        assert_eq!(
            plan_callback(&expired, &no_options, Flow::Standard, iss, false),
            CallbackAction::LoginAgain(Value::Null)
        );

        let implicit = params(
            "http://app/#access_token=at&id_token=it&state=s-1",
            Flow::Implicit,
        );
        assert_eq!(
            plan_callback(&implicit, &r, Flow::Implicit, iss, false),
            CallbackAction::Tokens {
                implicit: Some(ImplicitTokens {
                    access_token: Some("at".into()),
                    id_token: Some("it".into())
                }),
                code: None
            }
        );

        let hybrid = params("http://app/#access_token=at&state=s-1&code=c", Flow::Hybrid);
        assert_eq!(
            plan_callback(&hybrid, &r, Flow::Hybrid, iss, false),
            CallbackAction::Tokens {
                implicit: Some(ImplicitTokens {
                    access_token: Some("at".into()),
                    id_token: None
                }),
                code: Some("c".into())
            }
        );
        let hybrid_code_only = params("http://app/#state=s-1&code=c", Flow::Hybrid);
        assert_eq!(
            plan_callback(&hybrid_code_only, &r, Flow::Hybrid, iss, false),
            CallbackAction::Tokens {
                implicit: None,
                code: Some("c".into())
            }
        );
    }

    #[test]
    fn a_foreign_issuer_fails_even_an_error_response() {
        let r = CallbackRecord {
            prompt: Some("none".into()),
            ..record()
        };
        for url in [
            "http://app/#state=s-1&code=c&iss=http%3A%2F%2Fevil",
            "http://app/#error=login_required&state=s-1&iss=http%3A%2F%2Fevil",
        ] {
            let p = params(url, Flow::Standard);
            match plan_callback(&p, &r, Flow::Standard, Some("http://kc/realms/d"), false) {
                CallbackAction::Fail(e) => assert_eq!(e.code, ErrorCode::InvalidIssuer),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_server_known_to_send_iss_must_send_it() {
        let r = record();
        let expected = Some("http://kc/realms/d");
        for url in [
            "http://app/#state=s-1&code=c",
            "http://app/#error=login_required&state=s-1",
        ] {
            let p = params(url, Flow::Standard);
            match plan_callback(&p, &r, Flow::Standard, expected, true) {
                CallbackAction::Fail(e) => assert_eq!(e.code, ErrorCode::InvalidIssuer, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
            // A server that does not announce iss may leave it out.
            assert!(!matches!(
                plan_callback(&p, &r, Flow::Standard, expected, false),
                CallbackAction::Fail(e) if e.code == ErrorCode::InvalidIssuer
            ));
        }
        let named = params(
            "http://app/#state=s-1&code=c&iss=http%3A%2F%2Fkc%2Frealms%2Fd",
            Flow::Standard,
        );
        assert_eq!(
            plan_callback(&named, &r, Flow::Standard, expected, true),
            CallbackAction::Tokens {
                implicit: None,
                code: Some("c".into())
            }
        );
        assert!(require_issuer(None, true).is_err());
        assert!(require_issuer(Some(""), true).is_ok(), "then compared");
        assert!(require_issuer(None, false).is_ok());
    }
}
