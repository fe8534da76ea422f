//! The URLs the adapter navigates to: authorization (login and registration), logout and the
//! account console, with keycloak-js's parameter order and `URLSearchParams` encoding.
//!
//! One deliberate difference: the `redirect_uri` sent to the server never carries the page's
//! fragment. keycloak-js sends `location.href` as it is, so an app route like `#/orders` ends up
//! inside the authorization response's fragment and breaks it. We send the URL without the
//! fragment and keep the fragment in the callback record, to put it back after the callback.

use crate::prelude::*;

use super::callback::{CallbackRecord, RecordRef};
use super::config::Config;
use super::encode::push_form_encoded;
use super::error::{Error, ErrorCode};
use super::json::Value;
use super::options::{Flow, InitOptions, LoginOptions, ResponseMode};
use super::pkce;
use super::text;

/// Builds a query string in insertion order, as `URLSearchParams` would serialise it.
struct Query {
    out: String,
    empty: bool,
}

impl Query {
    /// Starts `base?`, or `base&` when the base already has a query (metadata endpoints may).
    fn new(base: &str) -> Self {
        let mut out = String::with_capacity(base.len() + 256);
        out.push_str(base);
        out.push(if text::contains(base, b'?') { '&' } else { '?' });
        Query { out, empty: true }
    }

    fn append(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.empty {
            self.out.push('&');
        }
        self.empty = false;
        push_form_encoded(name, &mut self.out);
        self.out.push('=');
        push_form_encoded(value, &mut self.out);
        self
    }

    fn finish(self) -> String {
        self.out
    }
}

/// The URL without its fragment, and the fragment (without `#`), if any.
pub fn split_fragment(url: &str) -> (&str, Option<&str>) {
    match text::split_once(url, b'#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    }
}

/// keycloak-js's `redirectUri(options)`: the option, else the one given to `init()`, else the
/// current page (`location.href`). Empty strings count as absent.
pub fn pick_redirect_uri<'a>(
    option: Option<&'a str>,
    configured: Option<&'a str>,
    current_url: &'a str,
) -> &'a str {
    option
        .filter(|s| !s.is_empty())
        .or(configured.filter(|s| !s.is_empty()))
        .unwrap_or(current_url)
}

/// The `scope` parameter: the given scope split on single spaces, with `openid` put first when
/// it is not among the values (the rest is kept as it is, empty values included).
pub fn scope_with_openid(scope: Option<&str>) -> String {
    match scope.filter(|s| !s.is_empty()) {
        None => "openid".to_owned(),
        Some(scope) if text::split(scope, b' ').any(|v| v == "openid") => scope.to_owned(),
        Some(scope) => {
            let mut out = String::from("openid ");
            out.push_str(scope);
            out
        }
    }
}

/// The `claims` parameter for an `acr` request: `{"id_token":{"acr":<acr>}}`.
pub fn claims_parameter(acr: &Value) -> String {
    let mut out = String::from("{\"id_token\":{\"acr\":");
    acr.write_json(&mut out);
    out.push_str("}}");
    out
}

/// Everything an authorization URL is made of.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// The authorization endpoint, or the registration endpoint for `action: 'register'`.
    pub endpoint: &'a str,
    pub client_id: &'a str,
    /// Sent as it is: callers strip the fragment first (see [`prepare_login`]).
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub response_mode: ResponseMode,
    pub flow: Flow,
    /// The login option's scope, else the one given to `init()`.
    pub scope: Option<&'a str>,
    /// None when `useNonce` is false.
    pub nonce: Option<&'a str>,
    pub options: &'a LoginOptions<'a>,
    /// None when `pkceMethod` is false.
    pub code_challenge: Option<&'a str>,
}

/// The authorization URL, with keycloak-js's parameter order.
pub fn authorization_url(request: &AuthorizationRequest) -> String {
    let options = request.options;
    let mut q = Query::new(request.endpoint);
    q.append("client_id", request.client_id)
        .append("redirect_uri", request.redirect_uri)
        .append("state", request.state)
        .append("response_mode", request.response_mode.as_str())
        .append("response_type", request.flow.response_type())
        .append("scope", &scope_with_openid(request.scope));
    if let Some(nonce) = request.nonce {
        q.append("nonce", nonce);
    }
    if let Some(prompt) = options.prompt {
        q.append("prompt", prompt);
    }
    if let Some(max_age) = options.max_age {
        q.append("max_age", max_age.text());
    }
    if let Some(hint) = options.login_hint {
        q.append("login_hint", hint);
    }
    if let Some(hint) = options.idp_hint {
        q.append("kc_idp_hint", hint);
    }
    if let Some(action) = options.action.filter(|a| *a != "register") {
        q.append("kc_action", action);
    }
    if let Some(locale) = options.locale {
        q.append("ui_locales", locale);
    }
    if let Some(acr) = options.acr {
        q.append("claims", &claims_parameter(acr));
    }
    if let Some(values) = options.acr_values {
        q.append("acr_values", values);
    }
    if let Some(challenge) = request.code_challenge {
        q.append("code_challenge", challenge)
            .append("code_challenge_method", "S256");
    }
    q.finish()
}

/// The random values of one login, made from caller-supplied random bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSecrets {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

impl LoginSecrets {
    /// None only when `verifier_random` runs out of usable bytes (pass
    /// [`pkce::VERIFIER_RANDOM_BYTES`]; then it practically never does): draw again.
    pub fn from_random(
        state_random: &[u8; 16],
        nonce_random: &[u8; 16],
        verifier_random: &[u8],
    ) -> Option<Self> {
        Some(LoginSecrets {
            state: pkce::uuid_v4(state_random),
            nonce: pkce::uuid_v4(nonce_random),
            code_verifier: pkce::code_verifier(verifier_random)?,
        })
    }
}

/// A login ready to go: navigate to `url` after storing `record` (a [`CallbackRecord`]'s
/// JSON) under the state's key.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRequest {
    pub url: String,
    pub record: String,
}

/// `createLoginUrl(options)`: the URL and the callback record to store.
///
/// `raw_options` is the options object as given (or with `action: 'register'` added), stored so
/// that an `authentication_expired` callback can log in again with the same options.
pub fn prepare_login(
    config: &Config,
    init: &InitOptions,
    current_url: &str,
    options: &LoginOptions,
    raw_options: &Value,
    secrets: &LoginSecrets,
    now_ms: f64,
) -> Result<LoginRequest, Error> {
    let endpoint = if options.is_register() {
        config.endpoints.register()?
    } else {
        config.endpoints.authorize()?
    };
    let chosen = pick_redirect_uri(
        options.redirect_uri,
        init.redirect_uri.as_deref(),
        current_url,
    );
    let (redirect_uri, app_fragment) = split_fragment(chosen);
    let code_challenge = init
        .pkce
        .then(|| pkce::code_challenge(&secrets.code_verifier));
    let url = authorization_url(&AuthorizationRequest {
        endpoint,
        client_id: &config.client_id,
        redirect_uri,
        state: &secrets.state,
        response_mode: init.response_mode,
        flow: init.flow,
        scope: options.scope.or(init.scope.as_deref()),
        nonce: init.use_nonce.then_some(secrets.nonce.as_str()),
        options,
        code_challenge: code_challenge.as_deref(),
    });
    let record = RecordRef {
        state: &secrets.state,
        nonce: &secrets.nonce,
        redirect_uri,
        login_options: Some(raw_options).filter(|v| v.is_object()),
        prompt: options.prompt,
        pkce_code_verifier: init.pkce.then_some(secrets.code_verifier.as_str()),
        expires: now_ms + CallbackRecord::LIFETIME_MS,
        app_fragment: app_fragment.filter(|f| !f.is_empty()),
    }
    .to_json();
    Ok(LoginRequest { url, record })
}

/// The options of the login that `init()` starts itself: `prompt: 'none'` for check-sso (the
/// full-page fallback), and the `locale` given to `init()`.
pub fn init_login_options(init: &InitOptions, prompt_none: bool) -> Value {
    let mut options = Value::Object(Vec::new());
    if prompt_none {
        options.set("prompt", Value::from("none"));
    }
    if let Some(locale) = &init.locale {
        options.set("locale", Value::from(locale.as_str()));
    }
    options
}

/// What follows a code exchange the server refused (the session may have ended between the
/// login and the exchange): with `onLoad: 'login-required'` the login form again, with
/// `prompt=login` so that the user is asked and a server that keeps refusing cannot make the page
/// loop; otherwise None, and the page stays anonymous.
pub fn login_after_failed_exchange(init: &InitOptions) -> Option<Value> {
    init.login_required().then(|| {
        let mut options = Value::Object(Vec::new());
        options.set("prompt", Value::from("login"));
        if let Some(locale) = &init.locale {
            options.set("locale", Value::from(locale.as_str()));
        }
        options
    })
}

/// The options of the silent check-sso iframe's login.
pub fn silent_check_sso_options(silent_redirect_uri: &str) -> Value {
    Value::Object(vec![
        ("prompt".to_owned(), Value::from("none")),
        ("redirectUri".to_owned(), Value::from(silent_redirect_uri)),
    ])
}

/// `createLogoutUrl()` for GET: the end-session endpoint with `client_id`,
/// `post_logout_redirect_uri` and, when there is an ID token, `id_token_hint`.
pub fn logout_url(
    endpoint: &str,
    client_id: &str,
    post_logout_redirect_uri: &str,
    id_token: Option<&str>,
) -> String {
    let mut q = Query::new(endpoint);
    q.append("client_id", client_id)
        .append("post_logout_redirect_uri", post_logout_redirect_uri);
    if let Some(hint) = id_token.filter(|t| !t.is_empty()) {
        q.append("id_token_hint", hint);
    }
    q.finish()
}

/// The hidden fields of the POST logout form (its action is the bare end-session endpoint), in
/// keycloak-js's order. Unlike keycloak-js, an absent ID token is left out rather than sent as
/// the text "undefined".
pub fn logout_form_fields(
    client_id: &str,
    post_logout_redirect_uri: &str,
    id_token: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut fields = Vec::with_capacity(3);
    if let Some(hint) = id_token.filter(|t| !t.is_empty()) {
        fields.push(("id_token_hint", hint.to_owned()));
    }
    fields.push(("client_id", client_id.to_owned()));
    fields.push((
        "post_logout_redirect_uri",
        post_logout_redirect_uri.to_owned(),
    ));
    fields
}

/// `createAccountUrl()`: `${realmUrl}/account?referrer=<clientId>&referrer_uri=<redirectUri>`.
/// `realm_url` is None in generic OIDC mode, which has no account console.
pub fn account_url(
    realm_url: Option<&str>,
    client_id: &str,
    redirect_uri: &str,
) -> Result<String, Error> {
    let realm_url = realm_url.ok_or_else(|| {
        Error::new(
            ErrorCode::NotSupported,
            "Unable to create account URL, make sure the adapter is not configured using a generic OIDC provider.",
        )
    })?;
    let mut base = realm_url.to_owned();
    base.push_str("/account");
    let mut q = Query::new(&base);
    q.append("referrer", client_id)
        .append("referrer_uri", redirect_uri);
    Ok(q.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ConfigSource;
    use crate::core::json::parse;

    const AUTH: &str = "http://kc/realms/demo/protocol/openid-connect/auth";

    fn request<'a>(options: &'a LoginOptions) -> AuthorizationRequest<'a> {
        AuthorizationRequest {
            endpoint: AUTH,
            client_id: "web app",
            redirect_uri: "http://app/page?x=1",
            state: "s-1",
            response_mode: ResponseMode::Fragment,
            flow: Flow::Standard,
            scope: None,
            nonce: Some("n-1"),
            options,
            code_challenge: Some("chal"),
        }
    }

    /// The query of a URL as (name, decoded value) pairs, in order.
    fn params(url: &str) -> Vec<(String, String)> {
        let query = url.split_once('?').unwrap().1;
        query
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (
                    crate::core::encode::form_decode(k),
                    crate::core::encode::form_decode(v),
                )
            })
            .collect()
    }

    #[test]
    fn minimal_authorization_url() {
        let options = LoginOptions::default();
        assert_eq!(
            authorization_url(&request(&options)),
            "http://kc/realms/demo/protocol/openid-connect/auth?client_id=web+app\
             &redirect_uri=http%3A%2F%2Fapp%2Fpage%3Fx%3D1&state=s-1&response_mode=fragment\
             &response_type=code&scope=openid&nonce=n-1&code_challenge=chal\
             &code_challenge_method=S256"
        );
    }

    #[test]
    fn every_login_option_in_keycloak_js_order() {
        let raw = parse(
            r#"{"scope":"ignored-here","redirectUri":"ignored-here","prompt":"login",
                "action":"UPDATE_PASSWORD","maxAge":3600,"loginHint":"alice@example.com",
                "acr":{"values":["gold","silver"],"essential":true},"acrValues":"urn:mfa",
                "idpHint":"github","locale":"de en"}"#,
        )
        .unwrap();
        let options = LoginOptions::from_value(&raw).unwrap();
        let mut req = request(&options);
        req.scope = Some("email profile");
        req.flow = Flow::Hybrid;
        req.response_mode = ResponseMode::Query;
        let url = authorization_url(&req);
        let names: Vec<String> = params(&url).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "redirect_uri",
                "state",
                "response_mode",
                "response_type",
                "scope",
                "nonce",
                "prompt",
                "max_age",
                "login_hint",
                "kc_idp_hint",
                "kc_action",
                "ui_locales",
                "claims",
                "acr_values",
                "code_challenge",
                "code_challenge_method",
            ]
        );
        let p = params(&url);
        let get = |name: &str| p.iter().find(|(k, _)| k == name).unwrap().1.clone();
        assert_eq!(get("response_mode"), "query");
        assert_eq!(get("response_type"), "code id_token token");
        assert_eq!(get("scope"), "openid email profile");
        assert_eq!(get("prompt"), "login");
        assert_eq!(get("max_age"), "3600");
        assert_eq!(get("login_hint"), "alice@example.com");
        assert_eq!(get("kc_idp_hint"), "github");
        assert_eq!(get("kc_action"), "UPDATE_PASSWORD");
        assert_eq!(get("ui_locales"), "de en");
        assert_eq!(
            get("claims"),
            r#"{"id_token":{"acr":{"values":["gold","silver"],"essential":true}}}"#
        );
        assert_eq!(get("acr_values"), "urn:mfa");
        // Raw encoding of the pieces that differ from encodeURIComponent.
        assert!(url.contains("&login_hint=alice%40example.com&"));
        assert!(url.contains("&ui_locales=de+en&"));
        assert!(url.contains(
            "&claims=%7B%22id_token%22%3A%7B%22acr%22%3A%7B%22values%22%3A%5B%22gold%22%2C%22silver%22%5D%2C%22essential%22%3Atrue%7D%7D%7D&"
        ));
    }

    #[test]
    fn max_age_zero_is_sent_and_fractions_are_kept() {
        // JSON.stringify's text for a number is String(n): it is sent as it is (form-encoded).
        for (json, text) in [
            ("0", "0"),
            ("1.5", "1.5"),
            ("-1", "-1"),
            ("1e+21", "1e%2B21"),
        ] {
            let age = parse(json).unwrap();
            let Value::Number(age) = &age else { panic!() };
            let options = LoginOptions {
                max_age: Some(age),
                ..LoginOptions::default()
            };
            assert!(authorization_url(&request(&options)).contains(&format!("&max_age={text}&")));
        }
    }

    #[test]
    fn register_action_is_not_sent_as_kc_action() {
        let options = LoginOptions {
            action: Some("register"),
            ..LoginOptions::default()
        };
        assert!(!authorization_url(&request(&options)).contains("kc_action"));
    }

    #[test]
    fn optional_parameters_are_left_out() {
        let options = LoginOptions::default();
        let mut req = request(&options);
        req.nonce = None;
        req.code_challenge = None;
        let url = authorization_url(&req);
        let names: Vec<String> = params(&url).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "redirect_uri",
                "state",
                "response_mode",
                "response_type",
                "scope"
            ]
        );
    }

    #[test]
    fn implicit_response_type() {
        let options = LoginOptions::default();
        let mut req = request(&options);
        req.flow = Flow::Implicit;
        assert!(authorization_url(&req).contains("&response_type=id_token+token&"));
    }

    #[test]
    fn endpoint_with_a_query_gets_an_ampersand() {
        let options = LoginOptions::default();
        let mut req = request(&options);
        req.endpoint = "https://idp/authorize?tenant=1";
        assert!(authorization_url(&req).starts_with("https://idp/authorize?tenant=1&client_id="));
    }

    #[test]
    fn openid_is_prepended_to_scope_when_missing() {
        assert_eq!(scope_with_openid(None), "openid");
        assert_eq!(scope_with_openid(Some("")), "openid");
        assert_eq!(scope_with_openid(Some("email")), "openid email");
        assert_eq!(scope_with_openid(Some("email openid")), "email openid");
        assert_eq!(scope_with_openid(Some("openid")), "openid");
        // Split on single spaces, as keycloak-js does: "openidx" is not "openid".
        assert_eq!(scope_with_openid(Some("openidx")), "openid openidx");
        assert_eq!(scope_with_openid(Some("a  b")), "openid a  b");
        assert_eq!(scope_with_openid(Some(" openid")), " openid");
    }

    #[test]
    fn redirect_uri_choice() {
        assert_eq!(pick_redirect_uri(Some("a"), Some("b"), "c"), "a");
        assert_eq!(pick_redirect_uri(None, Some("b"), "c"), "b");
        assert_eq!(pick_redirect_uri(Some(""), Some(""), "c"), "c");
        assert_eq!(pick_redirect_uri(None, None, "c"), "c");
    }

    #[test]
    fn fragments_split_at_the_first_hash() {
        assert_eq!(split_fragment("http://a/p"), ("http://a/p", None));
        assert_eq!(split_fragment("http://a/p#"), ("http://a/p", Some("")));
        assert_eq!(
            split_fragment("http://a/p?q#/r?tab=2#x"),
            ("http://a/p?q", Some("/r?tab=2#x"))
        );
    }

    fn config() -> Config {
        ConfigSource::from_value(
            &parse(r#"{"url":"http://kc","realm":"demo","clientId":"web"}"#).unwrap(),
        )
        .unwrap()
        .resolve(None)
        .unwrap()
    }

    fn secrets() -> LoginSecrets {
        LoginSecrets::from_random(&[1; 16], &[2; 16], &[3; 128]).unwrap()
    }

    #[test]
    fn secrets_from_random() {
        let s = secrets();
        assert_eq!(s.state, "01010101-0101-4101-8101-010101010101");
        assert_eq!(s.nonce, "02020202-0202-4202-8202-020202020202");
        assert_eq!(s.code_verifier, "D".repeat(96));
        assert_eq!(
            LoginSecrets::from_random(&[0; 16], &[0; 16], &[255; 128]),
            None
        );
    }

    #[test]
    fn prepare_login_strips_and_keeps_the_fragment() {
        let init = InitOptions::default();
        let raw = parse(r#"{"prompt":"consent","loginHint":"bob"}"#).unwrap();
        let options = LoginOptions::from_value(&raw).unwrap();
        let s = secrets();
        let req = prepare_login(
            &config(),
            &init,
            "http://app/page?x=1#/route?tab=2",
            &options,
            &raw,
            &s,
            1_000.0,
        )
        .unwrap();
        let p = params(&req.url);
        assert_eq!(p[1], ("redirect_uri".into(), "http://app/page?x=1".into()));
        assert_eq!(p[2], ("state".into(), s.state.clone()));
        assert_eq!(p[6], ("nonce".into(), s.nonce.clone()));
        assert_eq!(p[7], ("prompt".into(), "consent".into()));
        let challenge = p.iter().find(|(k, _)| k == "code_challenge").unwrap();
        assert_eq!(challenge.1, pkce::code_challenge(&s.code_verifier));
        assert!(req.url.starts_with(&format!("{AUTH}?client_id=web&")));

        let r = CallbackRecord::from_json(&req.record).unwrap();
        assert_eq!(r.state, s.state);
        assert_eq!(r.nonce, s.nonce);
        assert_eq!(r.redirect_uri, "http://app/page?x=1");
        assert_eq!(r.app_fragment.as_deref(), Some("/route?tab=2"));
        assert_eq!(r.prompt.as_deref(), Some("consent"));
        assert_eq!(
            r.pkce_code_verifier.as_deref(),
            Some(s.code_verifier.as_str())
        );
        assert_eq!(r.login_options.as_ref(), Some(&raw));
        assert_eq!(r.expires, 1_000.0 + 3_600_000.0);
    }

    #[test]
    fn prepare_login_follows_init_options() {
        let init = InitOptions::from_value(
            &parse(
                r#"{"useNonce":false,"pkceMethod":false,"scope":"email","responseMode":"query",
                    "flow":"implicit","redirectUri":"http://app/cb#"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let req = prepare_login(
            &config(),
            &init,
            "http://app/ignored",
            &LoginOptions::default(),
            &Value::Null,
            &secrets(),
            0.0,
        )
        .unwrap();
        let p = params(&req.url);
        let names: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "redirect_uri",
                "state",
                "response_mode",
                "response_type",
                "scope"
            ]
        );
        assert_eq!(p[1].1, "http://app/cb");
        assert_eq!(p[3].1, "query");
        assert_eq!(p[4].1, "id_token token");
        assert_eq!(p[5].1, "openid email");
        let record = CallbackRecord::from_json(&req.record).unwrap();
        assert_eq!(record.pkce_code_verifier, None);
        assert_eq!(record.login_options, None);
        assert_eq!(record.prompt, None);
        // An empty fragment is nothing to restore.
        assert_eq!(record.app_fragment, None);
    }

    #[test]
    fn login_option_scope_and_redirect_win() {
        let init = InitOptions::from_value(
            &parse(r#"{"scope":"email","redirectUri":"http://app/init"}"#).unwrap(),
        )
        .unwrap();
        let raw = parse(r#"{"scope":"phone openid","redirectUri":"http://app/opt"}"#).unwrap();
        let req = prepare_login(
            &config(),
            &init,
            "http://app/cur",
            &LoginOptions::from_value(&raw).unwrap(),
            &raw,
            &secrets(),
            0.0,
        )
        .unwrap();
        let p = params(&req.url);
        assert_eq!(p[1].1, "http://app/opt");
        assert_eq!(p[5].1, "phone openid");
        let record = CallbackRecord::from_json(&req.record).unwrap();
        assert_eq!(record.redirect_uri, "http://app/opt");
    }

    #[test]
    fn register_uses_the_registrations_endpoint() {
        let raw = crate::core::options::register_options(&parse(r#"{"locale":"fr"}"#).unwrap());
        let options = LoginOptions::from_value(&raw).unwrap();
        let req = prepare_login(
            &config(),
            &InitOptions::default(),
            "http://app/",
            &options,
            &raw,
            &secrets(),
            0.0,
        )
        .unwrap();
        assert!(req.url.starts_with(
            "http://kc/realms/demo/protocol/openid-connect/registrations?client_id=web&"
        ));
        assert!(!req.url.contains("kc_action"));
        assert!(req.url.contains("&ui_locales=fr&"));
        let record = CallbackRecord::from_json(&req.record).unwrap();
        assert_eq!(
            record.login_options.as_ref().unwrap().get_str("action"),
            Some("register")
        );
    }

    #[test]
    fn register_in_oidc_mode_fails() {
        let config = ConfigSource::from_value(
            &parse(r#"{"clientId":"c","oidcProvider":{"authorization_endpoint":"https://idp/a"}}"#)
                .unwrap(),
        )
        .unwrap()
        .resolve(None)
        .unwrap();
        let raw = crate::core::options::register_options(&Value::Null);
        let err = prepare_login(
            &config,
            &InitOptions::default(),
            "http://app/",
            &LoginOptions::from_value(&raw).unwrap(),
            &raw,
            &secrets(),
            0.0,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        let ok = prepare_login(
            &config,
            &InitOptions::default(),
            "http://app/",
            &LoginOptions::default(),
            &Value::Null,
            &secrets(),
            0.0,
        )
        .unwrap();
        assert!(ok.url.starts_with("https://idp/a?client_id=c&"));
    }

    #[test]
    fn login_options_that_init_uses() {
        let init = InitOptions::from_value(&parse(r#"{"locale":"nl"}"#).unwrap()).unwrap();
        assert_eq!(
            init_login_options(&init, true).to_json(),
            r#"{"prompt":"none","locale":"nl"}"#
        );
        assert_eq!(
            init_login_options(&init, false).to_json(),
            r#"{"locale":"nl"}"#
        );
        assert_eq!(
            init_login_options(&InitOptions::default(), false).to_json(),
            "{}"
        );
        let required = InitOptions::from_value(
            &parse(r#"{"onLoad":"login-required","locale":"nl"}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(
            login_after_failed_exchange(&required).map(|o| o.to_json()),
            Some(r#"{"prompt":"login","locale":"nl"}"#.into())
        );
        let check_sso =
            InitOptions::from_value(&parse(r#"{"onLoad":"check-sso"}"#).unwrap()).unwrap();
        assert_eq!(login_after_failed_exchange(&check_sso), None);
        assert_eq!(login_after_failed_exchange(&InitOptions::default()), None);
        let silent = silent_check_sso_options("http://app/silent.html");
        let parsed = LoginOptions::from_value(&silent).unwrap();
        assert_eq!(parsed.prompt, Some("none"));
        assert_eq!(parsed.redirect_uri, Some("http://app/silent.html"));
    }

    #[test]
    fn logout_get_url() {
        let endpoint = "http://kc/realms/demo/protocol/openid-connect/logout";
        assert_eq!(
            logout_url(endpoint, "web", "http://app/#/x", Some("id.tok.en")),
            "http://kc/realms/demo/protocol/openid-connect/logout?client_id=web\
             &post_logout_redirect_uri=http%3A%2F%2Fapp%2F%23%2Fx&id_token_hint=id.tok.en"
        );
        assert_eq!(
            logout_url(endpoint, "web", "http://app/", None),
            "http://kc/realms/demo/protocol/openid-connect/logout?client_id=web\
             &post_logout_redirect_uri=http%3A%2F%2Fapp%2F"
        );
    }

    #[test]
    fn logout_form_omits_absent_fields() {
        assert_eq!(
            logout_form_fields("web", "http://app/", Some("tok")),
            vec![
                ("id_token_hint", "tok".to_owned()),
                ("client_id", "web".to_owned()),
                ("post_logout_redirect_uri", "http://app/".to_owned()),
            ]
        );
        assert_eq!(
            logout_form_fields("web", "http://app/", None),
            vec![
                ("client_id", "web".to_owned()),
                ("post_logout_redirect_uri", "http://app/".to_owned()),
            ]
        );
        assert_eq!(logout_form_fields("web", "x", Some("")).len(), 2);
    }

    #[test]
    fn account_url_in_both_modes() {
        assert_eq!(
            account_url(Some("http://kc/realms/demo"), "web app", "http://app/?a=b c").unwrap(),
            "http://kc/realms/demo/account?referrer=web+app&referrer_uri=http%3A%2F%2Fapp%2F%3Fa%3Db+c"
        );
        let err = account_url(None, "web", "http://app/").unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        assert_eq!(
            err.message,
            "Unable to create account URL, make sure the adapter is not configured using a generic OIDC provider."
        );
    }
}
