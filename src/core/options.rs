//! Validated options of `init()`, `login()`, `logout()` and `createAccountUrl()`, parsed from the
//! objects JavaScript passes (as `JSON.stringify` output parsed by [`crate::core::json`]).
//!
//! Defaults and the checks that throw are keycloak-js's, with its messages. Where keycloak-js
//! silently ignores a value of the wrong type (say `maxAge: "60"`), we reject it with
//! `Invalid value for <name>` instead: a typo should not quietly change the login. `undefined`
//! and `null` always mean "not given", and so does an empty string where keycloak-js tests
//! truthiness.

use crate::prelude::*;

use super::error::{Error, ErrorCode};
use super::json::{Number, Value};

/// `onLoad`: what `init()` does when the URL carries no callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLoad {
    LoginRequired,
    CheckSso,
}

impl OnLoad {
    pub fn as_str(self) -> &'static str {
        match self {
            OnLoad::LoginRequired => "login-required",
            OnLoad::CheckSso => "check-sso",
        }
    }
}

/// Where the server puts the authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    Query,
    #[default]
    Fragment,
}

impl ResponseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
        }
    }
}

/// The OAuth flow, which decides the `response_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    #[default]
    Standard,
    Implicit,
    Hybrid,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Standard => "standard",
            Flow::Implicit => "implicit",
            Flow::Hybrid => "hybrid",
        }
    }

    /// The `responseType` property and `response_type` parameter.
    pub fn response_type(self) -> &'static str {
        match self {
            Flow::Standard => "code",
            Flow::Implicit => "id_token token",
            Flow::Hybrid => "code id_token token",
        }
    }
}

/// How `logout()` reaches the end-session endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogoutMethod {
    #[default]
    Get,
    Post,
}

impl LogoutMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LogoutMethod::Get => "GET",
            LogoutMethod::Post => "POST",
        }
    }
}

/// The options of `init()`, with keycloak-js's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct InitOptions {
    pub use_nonce: bool,
    /// `adapter` was an object: the JavaScript wrapper drives that adapter itself.
    pub custom_adapter: bool,
    pub on_load: Option<OnLoad>,
    pub token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// Seconds; None is keycloak-js's `null` (unknown until the first token response).
    pub time_skew: Option<f64>,
    pub check_login_iframe: bool,
    /// Seconds between two session checks.
    pub check_login_iframe_interval: f64,
    pub response_mode: ResponseMode,
    pub redirect_uri: Option<String>,
    pub silent_check_sso_redirect_uri: Option<String>,
    pub silent_check_sso_fallback: bool,
    pub flow: Flow,
    /// `pkceMethod: 'S256'` (true) or `false`.
    pub pkce: bool,
    pub enable_logging: bool,
    pub scope: Option<String>,
    /// Milliseconds to wait for an iframe's message.
    pub message_receive_timeout: f64,
    pub locale: Option<String>,
    pub logout_method: LogoutMethod,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            use_nonce: true,
            custom_adapter: false,
            on_load: None,
            token: None,
            refresh_token: None,
            id_token: None,
            time_skew: None,
            check_login_iframe: true,
            check_login_iframe_interval: 5.0,
            response_mode: ResponseMode::Fragment,
            redirect_uri: None,
            silent_check_sso_redirect_uri: None,
            silent_check_sso_fallback: true,
            flow: Flow::Standard,
            pkce: true,
            enable_logging: false,
            scope: None,
            message_receive_timeout: 10000.0,
            locale: None,
            logout_method: LogoutMethod::Get,
        }
    }
}

pub(crate) fn invalid(name: &str) -> Error {
    let mut message = String::from("Invalid value for ");
    message.push_str(name);
    Error::new(ErrorCode::InvalidOption, message)
}

/// The member `name`, treating `null` as absent.
fn given<'a>(options: &'a Value, name: &str) -> Option<&'a Value> {
    options.get(name).filter(|v| !v.is_null())
}

/// A string option; "" counts as not given.
fn string<'a>(options: &'a Value, name: &str) -> Result<Option<&'a str>, Error> {
    match given(options, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(name)),
    }
}

/// A string option kept beyond the options object.
fn owned(options: &Value, name: &str) -> Result<Option<String>, Error> {
    string(options, name).map(|s| s.map(str::to_owned))
}

fn boolean(options: &Value, name: &str) -> Result<Option<bool>, Error> {
    match given(options, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(name)),
    }
}

fn number(options: &Value, name: &str) -> Result<Option<f64>, Error> {
    match given(options, name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.value())),
        Some(_) => Err(invalid(name)),
    }
}

/// A string option with a fixed set of values; a truthy value outside it is an error, which
/// carries keycloak-js's message for the options where keycloak-js has one.
fn choice<T: Copy>(options: &Value, name: &str, values: &[(&str, T)]) -> Result<Option<T>, Error> {
    match given(options, name) {
        None => Ok(None),
        Some(v) if !v.is_truthy() => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|s| values.iter().find(|(k, _)| *k == s))
            .map(|(_, t)| Some(*t))
            .ok_or_else(|| invalid(name)),
    }
}

/// JavaScript's `String(value)`, for error messages that show a value.
fn js_string(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n.text()),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !item.is_null() {
                    js_string(item, out);
                }
            }
        }
        Value::Object(_) => out.push_str("[object Object]"),
    }
}

/// Options arrive as an object, or as `null` when JavaScript passed nothing.
fn check_object(options: &Value, what: &str) -> Result<(), Error> {
    match options {
        Value::Null | Value::Object(_) => Ok(()),
        _ => {
            let mut message = String::from("The ");
            message.push_str(what);
            message.push_str(" must be an object.");
            Err(Error::new(ErrorCode::InvalidOption, message))
        }
    }
}

impl InitOptions {
    pub fn from_value(options: &Value) -> Result<Self, Error> {
        check_object(options, "init options")?;
        let mut init = InitOptions::default();

        match given(options, "adapter") {
            None | Some(Value::Object(_)) => {}
            Some(Value::String(s)) if s == "cordova" || s == "cordova-native" => {
                let mut message = String::from("The '");
                message.push_str(s);
                message.push_str("' adapter is not supported.");
                return Err(Error::new(ErrorCode::NotSupported, message));
            }
            // keycloak-js falls back to the default adapter for any other string.
            Some(Value::String(_)) => {}
            Some(_) => return Err(invalid("adapter")),
        }
        init.custom_adapter = matches!(given(options, "adapter"), Some(Value::Object(_)));

        if let Some(v) = boolean(options, "useNonce")? {
            init.use_nonce = v;
        }
        if let Some(v) = boolean(options, "checkLoginIframe")? {
            init.check_login_iframe = v;
        }
        if let Some(v) = number(options, "checkLoginIframeInterval")? {
            if v < 0.0 {
                return Err(invalid("checkLoginIframeInterval"));
            }
            // 0 is falsy in keycloak-js and keeps the default.
            if v > 0.0 {
                init.check_login_iframe_interval = v;
            }
        }
        init.on_load = choice(
            options,
            "onLoad",
            &[
                ("login-required", OnLoad::LoginRequired),
                ("check-sso", OnLoad::CheckSso),
            ],
        )?;
        if let Some(mode) = choice(
            options,
            "responseMode",
            &[
                ("query", ResponseMode::Query),
                ("fragment", ResponseMode::Fragment),
            ],
        )? {
            init.response_mode = mode;
        }
        if let Some(flow) = choice(
            options,
            "flow",
            &[
                ("standard", Flow::Standard),
                ("implicit", Flow::Implicit),
                ("hybrid", Flow::Hybrid),
            ],
        )? {
            init.flow = flow;
        }
        init.time_skew = number(options, "timeSkew")?;
        init.token = owned(options, "token")?;
        init.refresh_token = owned(options, "refreshToken")?;
        init.id_token = owned(options, "idToken")?;
        init.redirect_uri = owned(options, "redirectUri")?;
        init.silent_check_sso_redirect_uri = owned(options, "silentCheckSsoRedirectUri")?;
        if let Some(v) = boolean(options, "silentCheckSsoFallback")? {
            init.silent_check_sso_fallback = v;
        }
        // keycloak-js tests `typeof pkceMethod !== 'undefined'`, so null is checked too.
        match options.get("pkceMethod") {
            None => {}
            Some(Value::String(s)) if s == "S256" => init.pkce = true,
            Some(Value::Bool(false)) => init.pkce = false,
            Some(other) => {
                let mut message = String::from(
                    "Invalid value for pkceMethod', expected 'S256' or false but got ",
                );
                js_string(other, &mut message);
                message.push('.');
                return Err(Error::new(ErrorCode::InvalidOption, message));
            }
        }
        if let Some(v) = boolean(options, "enableLogging")? {
            init.enable_logging = v;
        }
        if let Some(method) = choice(
            options,
            "logoutMethod",
            &[("GET", LogoutMethod::Get), ("POST", LogoutMethod::Post)],
        )? {
            init.logout_method = method;
        }
        init.scope = owned(options, "scope")?;
        if let Some(v) = number(options, "messageReceiveTimeout")? {
            // keycloak-js keeps the default for values that are not positive.
            if v > 0.0 {
                init.message_receive_timeout = v;
            }
        }
        init.locale = owned(options, "locale")?;
        Ok(init)
    }

    /// `loginRequired`: set when `onLoad` is `login-required`.
    pub fn login_required(&self) -> bool {
        self.on_load == Some(OnLoad::LoginRequired)
    }

    /// Tokens given to `init()` are used only when both the token and the refresh token are.
    pub fn initial_tokens(&self) -> Option<(&str, &str, Option<&str>)> {
        match (&self.token, &self.refresh_token) {
            (Some(token), Some(refresh)) => {
                Some((token.as_str(), refresh.as_str(), self.id_token.as_deref()))
            }
            _ => None,
        }
    }
}

/// The options of `login()`, `createLoginUrl()`, `register()` and `createRegisterUrl()`,
/// borrowed from the options object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoginOptions<'a> {
    pub scope: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    /// `none`, `login`, `consent` or whatever else the server understands.
    pub prompt: Option<&'a str>,
    /// `register` picks the registration endpoint; anything else is sent as `kc_action`.
    pub action: Option<&'a str>,
    /// Seconds; 0 is sent.
    pub max_age: Option<&'a Number>,
    pub login_hint: Option<&'a str>,
    /// The `acr` claim request, usually `{ values: [...], essential: bool }`, sent verbatim.
    pub acr: Option<&'a Value>,
    pub acr_values: Option<&'a str>,
    pub idp_hint: Option<&'a str>,
    pub locale: Option<&'a str>,
}

impl<'a> LoginOptions<'a> {
    pub fn from_value(options: &'a Value) -> Result<Self, Error> {
        check_object(options, "login options")?;
        Ok(LoginOptions {
            scope: string(options, "scope")?,
            redirect_uri: string(options, "redirectUri")?,
            prompt: string(options, "prompt")?,
            action: string(options, "action")?,
            max_age: match given(options, "maxAge") {
                None => None,
                Some(Value::Number(n)) => Some(n),
                Some(_) => return Err(invalid("maxAge")),
            },
            login_hint: string(options, "loginHint")?,
            acr: given(options, "acr").filter(|v| v.is_truthy()),
            acr_values: string(options, "acrValues")?,
            idp_hint: string(options, "idpHint")?,
            locale: string(options, "locale")?,
        })
    }

    /// Whether this login goes to the registration page.
    pub fn is_register(&self) -> bool {
        self.action == Some("register")
    }
}

/// `createRegisterUrl(options)` is `createLoginUrl({ ...options, action: 'register' })`: the
/// options object to parse and to store with the callback state.
pub fn register_options(options: &Value) -> Value {
    let mut with_action = match options {
        Value::Object(_) => options.clone(),
        _ => Value::Object(Vec::new()),
    };
    with_action.set("action", Value::from("register"));
    with_action
}

/// The options of `logout()` and `createLogoutUrl()`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogoutOptions<'a> {
    pub redirect_uri: Option<&'a str>,
    /// None: the `logoutMethod` given to `init()`.
    pub logout_method: Option<LogoutMethod>,
}

impl<'a> LogoutOptions<'a> {
    pub fn from_value(options: &'a Value) -> Result<Self, Error> {
        check_object(options, "logout options")?;
        Ok(LogoutOptions {
            redirect_uri: string(options, "redirectUri")?,
            logout_method: choice(
                options,
                "logoutMethod",
                &[("GET", LogoutMethod::Get), ("POST", LogoutMethod::Post)],
            )?,
        })
    }
}

/// The options of `createAccountUrl()`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountOptions<'a> {
    pub redirect_uri: Option<&'a str>,
}

impl<'a> AccountOptions<'a> {
    pub fn from_value(options: &'a Value) -> Result<Self, Error> {
        check_object(options, "account options")?;
        Ok(AccountOptions {
            redirect_uri: string(options, "redirectUri")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::parse;

    fn init(json: &str) -> Result<InitOptions, Error> {
        InitOptions::from_value(&parse(json).unwrap())
    }

    fn init_err(json: &str) -> String {
        let err = init(json).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidOption, "{json}");
        err.message.clone()
    }

    #[test]
    fn defaults_are_keycloak_js_defaults() {
        for json in ["{}", "null"] {
            let o = init(json).unwrap();
            assert!(o.use_nonce);
            assert!(!o.custom_adapter);
            assert_eq!(o.on_load, None);
            assert!(!o.login_required());
            assert_eq!(o.time_skew, None);
            assert!(o.check_login_iframe);
            assert_eq!(o.check_login_iframe_interval, 5.0);
            assert_eq!(o.response_mode, ResponseMode::Fragment);
            assert_eq!(o.redirect_uri, None);
            assert_eq!(o.silent_check_sso_redirect_uri, None);
            assert!(o.silent_check_sso_fallback);
            assert_eq!(o.flow, Flow::Standard);
            assert_eq!(o.flow.response_type(), "code");
            assert!(o.pkce);
            assert!(!o.enable_logging);
            assert_eq!(o.scope, None);
            assert_eq!(o.message_receive_timeout, 10000.0);
            assert_eq!(o.locale, None);
            assert_eq!(o.logout_method, LogoutMethod::Get);
            assert_eq!(o.initial_tokens(), None);
            assert_eq!(o, InitOptions::default());
        }
    }

    #[test]
    fn every_option_is_read() {
        let o = init(
            r#"{"useNonce":false,"adapter":"default","onLoad":"login-required","token":"t",
                "refreshToken":"r","idToken":"i","timeSkew":-3,"checkLoginIframe":false,
                "checkLoginIframeInterval":30,"responseMode":"query",
                "redirectUri":"http://app/cb","silentCheckSsoRedirectUri":"http://app/s.html",
                "silentCheckSsoFallback":false,"flow":"hybrid","pkceMethod":false,
                "enableLogging":true,"scope":"email profile","messageReceiveTimeout":2500,
                "locale":"de","logoutMethod":"POST"}"#,
        )
        .unwrap();
        assert!(!o.use_nonce);
        assert_eq!(o.on_load, Some(OnLoad::LoginRequired));
        assert!(o.login_required());
        assert_eq!(o.initial_tokens(), Some(("t", "r", Some("i"))));
        assert_eq!(o.time_skew, Some(-3.0));
        assert!(!o.check_login_iframe);
        assert_eq!(o.check_login_iframe_interval, 30.0);
        assert_eq!(o.response_mode, ResponseMode::Query);
        assert_eq!(o.redirect_uri.as_deref(), Some("http://app/cb"));
        assert_eq!(
            o.silent_check_sso_redirect_uri.as_deref(),
            Some("http://app/s.html")
        );
        assert!(!o.silent_check_sso_fallback);
        assert_eq!(o.flow, Flow::Hybrid);
        assert_eq!(o.flow.response_type(), "code id_token token");
        assert!(!o.pkce);
        assert!(o.enable_logging);
        assert_eq!(o.scope.as_deref(), Some("email profile"));
        assert_eq!(o.message_receive_timeout, 2500.0);
        assert_eq!(o.locale.as_deref(), Some("de"));
        assert_eq!(o.logout_method, LogoutMethod::Post);
    }

    #[test]
    fn enumerations_accept_their_values() {
        assert_eq!(
            init(r#"{"onLoad":"check-sso"}"#).unwrap().on_load,
            Some(OnLoad::CheckSso)
        );
        assert_eq!(
            init(r#"{"responseMode":"fragment"}"#)
                .unwrap()
                .response_mode,
            ResponseMode::Fragment
        );
        let implicit = init(r#"{"flow":"implicit"}"#).unwrap().flow;
        assert_eq!(implicit, Flow::Implicit);
        assert_eq!(implicit.response_type(), "id_token token");
        assert_eq!(init(r#"{"flow":"standard"}"#).unwrap().flow, Flow::Standard);
        assert!(init(r#"{"pkceMethod":"S256"}"#).unwrap().pkce);
        assert_eq!(
            init(r#"{"logoutMethod":"GET"}"#).unwrap().logout_method,
            LogoutMethod::Get
        );
        for (value, text) in [
            (OnLoad::LoginRequired.as_str(), "login-required"),
            (OnLoad::CheckSso.as_str(), "check-sso"),
            (ResponseMode::Query.as_str(), "query"),
            (ResponseMode::Fragment.as_str(), "fragment"),
            (Flow::Standard.as_str(), "standard"),
            (Flow::Implicit.as_str(), "implicit"),
            (Flow::Hybrid.as_str(), "hybrid"),
            (LogoutMethod::Get.as_str(), "GET"),
            (LogoutMethod::Post.as_str(), "POST"),
        ] {
            assert_eq!(value, text);
        }
    }

    #[test]
    fn falsy_values_keep_the_defaults() {
        let o = init(
            r#"{"onLoad":"","responseMode":"","flow":null,"checkLoginIframeInterval":0,
                "messageReceiveTimeout":0,"redirectUri":"","scope":null,"useNonce":null,
                "logoutMethod":""}"#,
        )
        .unwrap();
        assert_eq!(o, InitOptions::default());
        assert_eq!(
            init(r#"{"messageReceiveTimeout":-5}"#)
                .unwrap()
                .message_receive_timeout,
            10000.0
        );
    }

    #[test]
    fn keycloak_js_validation_messages() {
        assert_eq!(init_err(r#"{"onLoad":"sso"}"#), "Invalid value for onLoad");
        assert_eq!(init_err(r#"{"onLoad":true}"#), "Invalid value for onLoad");
        assert_eq!(
            init_err(r#"{"responseMode":"form_post"}"#),
            "Invalid value for responseMode"
        );
        assert_eq!(init_err(r#"{"flow":"code"}"#), "Invalid value for flow");
        assert_eq!(init_err(r#"{"flow":1}"#), "Invalid value for flow");
        let pkce = |v: &str| init_err(&format!(r#"{{"pkceMethod":{v}}}"#));
        assert_eq!(
            pkce(r#""plain""#),
            "Invalid value for pkceMethod', expected 'S256' or false but got plain."
        );
        assert_eq!(
            pkce("true"),
            "Invalid value for pkceMethod', expected 'S256' or false but got true."
        );
        assert_eq!(
            pkce("null"),
            "Invalid value for pkceMethod', expected 'S256' or false but got null."
        );
        assert_eq!(
            pkce("0"),
            "Invalid value for pkceMethod', expected 'S256' or false but got 0."
        );
        assert_eq!(
            pkce(r#"["a",null,1.5]"#),
            "Invalid value for pkceMethod', expected 'S256' or false but got a,,1.5."
        );
        assert_eq!(
            pkce("{}"),
            "Invalid value for pkceMethod', expected 'S256' or false but got [object Object]."
        );
    }

    #[test]
    fn wrong_types_are_rejected_by_name() {
        let cases = [
            (r#"{"useNonce":"yes"}"#, "useNonce"),
            (r#"{"checkLoginIframe":1}"#, "checkLoginIframe"),
            (
                r#"{"checkLoginIframeInterval":"5"}"#,
                "checkLoginIframeInterval",
            ),
            (
                r#"{"checkLoginIframeInterval":-1}"#,
                "checkLoginIframeInterval",
            ),
            (r#"{"timeSkew":"0"}"#, "timeSkew"),
            (r#"{"token":5}"#, "token"),
            (r#"{"refreshToken":{}}"#, "refreshToken"),
            (r#"{"idToken":[]}"#, "idToken"),
            (r#"{"redirectUri":true}"#, "redirectUri"),
            (
                r#"{"silentCheckSsoRedirectUri":1}"#,
                "silentCheckSsoRedirectUri",
            ),
            (
                r#"{"silentCheckSsoFallback":"no"}"#,
                "silentCheckSsoFallback",
            ),
            (r#"{"enableLogging":1}"#, "enableLogging"),
            (r#"{"scope":["openid"]}"#, "scope"),
            (r#"{"messageReceiveTimeout":"1s"}"#, "messageReceiveTimeout"),
            (r#"{"locale":1}"#, "locale"),
            (r#"{"logoutMethod":"DELETE"}"#, "logoutMethod"),
            (r#"{"adapter":1}"#, "adapter"),
        ];
        for (json, name) in cases {
            assert_eq!(
                init_err(json),
                format!("Invalid value for {name}"),
                "{json}"
            );
        }
        let err = init("\"x\"").unwrap_err();
        assert_eq!(err.message, "The init options must be an object.");
    }

    #[test]
    fn adapters() {
        assert!(init(r#"{"adapter":{}}"#).unwrap().custom_adapter);
        assert!(!init(r#"{"adapter":"default"}"#).unwrap().custom_adapter);
        assert!(!init(r#"{"adapter":"other"}"#).unwrap().custom_adapter);
        for name in ["cordova", "cordova-native"] {
            let err = init(&format!(r#"{{"adapter":"{name}"}}"#)).unwrap_err();
            assert_eq!(err.code, ErrorCode::NotSupported);
            assert_eq!(
                err.message,
                format!("The '{name}' adapter is not supported.")
            );
        }
    }

    #[test]
    fn initial_tokens_need_both_tokens() {
        assert_eq!(init(r#"{"token":"t"}"#).unwrap().initial_tokens(), None);
        assert_eq!(
            init(r#"{"refreshToken":"r","idToken":"i"}"#)
                .unwrap()
                .initial_tokens(),
            None
        );
        assert_eq!(
            init(r#"{"token":"t","refreshToken":"r"}"#)
                .unwrap()
                .initial_tokens(),
            Some(("t", "r", None))
        );
        assert_eq!(
            init(r#"{"token":"","refreshToken":"r"}"#)
                .unwrap()
                .initial_tokens(),
            None
        );
    }

    fn login(json: &str) -> Result<LoginOptions<'static>, Error> {
        // Leaked: the options borrow from the parsed value, which a test keeps to its end.
        LoginOptions::from_value(Box::leak(Box::new(parse(json).unwrap())))
    }

    #[test]
    fn login_options_are_read() {
        let o = login(
            r#"{"scope":"phone","redirectUri":"http://app/x","prompt":"login","action":"UPDATE_PASSWORD",
                "maxAge":0,"loginHint":"alice","acr":{"values":["gold"],"essential":true},
                "acrValues":"2","idpHint":"github","locale":"fr","cordovaOptions":{"zoom":"no"}}"#,
        )
        .unwrap();
        assert_eq!(o.scope, Some("phone"));
        assert_eq!(o.redirect_uri, Some("http://app/x"));
        assert_eq!(o.prompt, Some("login"));
        assert_eq!(o.action, Some("UPDATE_PASSWORD"));
        assert!(!o.is_register());
        assert_eq!(o.max_age.map(Number::value), Some(0.0));
        assert_eq!(o.login_hint, Some("alice"));
        assert_eq!(
            o.acr.map(Value::to_json).as_deref(),
            Some(r#"{"values":["gold"],"essential":true}"#)
        );
        assert_eq!(o.acr_values, Some("2"));
        assert_eq!(o.idp_hint, Some("github"));
        assert_eq!(o.locale, Some("fr"));

        assert_eq!(login("null").unwrap(), LoginOptions::default());
        assert_eq!(login("{}").unwrap(), LoginOptions::default());
        assert_eq!(
            login(r#"{"acr":null,"prompt":"","maxAge":null}"#).unwrap(),
            LoginOptions::default()
        );
    }

    #[test]
    fn login_option_errors() {
        for (json, name) in [
            (r#"{"maxAge":"60"}"#, "maxAge"),
            (r#"{"prompt":1}"#, "prompt"),
            (r#"{"loginHint":false}"#, "loginHint"),
            (r#"{"scope":{}}"#, "scope"),
            (r#"{"idpHint":[]}"#, "idpHint"),
            (r#"{"redirectUri":0}"#, "redirectUri"),
            (r#"{"action":1}"#, "action"),
            (r#"{"acrValues":2}"#, "acrValues"),
            (r#"{"locale":true}"#, "locale"),
        ] {
            let err = login(json).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidOption);
            assert_eq!(err.message, format!("Invalid value for {name}"), "{json}");
        }
        assert_eq!(
            login("[]").unwrap_err().message,
            "The login options must be an object."
        );
    }

    #[test]
    fn register_options_add_the_action() {
        let v = register_options(&parse(r#"{"loginHint":"bob","action":"x"}"#).unwrap());
        assert_eq!(v.to_json(), r#"{"loginHint":"bob","action":"register"}"#);
        assert!(LoginOptions::from_value(&v).unwrap().is_register());
        assert_eq!(
            register_options(&Value::Null).to_json(),
            r#"{"action":"register"}"#
        );
    }

    #[test]
    fn logout_and_account_options() {
        let raw = parse(r#"{"redirectUri":"http://app/bye","logoutMethod":"POST"}"#).unwrap();
        let o = LogoutOptions::from_value(&raw).unwrap();
        assert_eq!(o.redirect_uri, Some("http://app/bye"));
        assert_eq!(o.logout_method, Some(LogoutMethod::Post));
        assert_eq!(
            LogoutOptions::from_value(&Value::Null).unwrap(),
            LogoutOptions::default()
        );
        let err =
            LogoutOptions::from_value(&parse(r#"{"logoutMethod":"PUT"}"#).unwrap()).unwrap_err();
        assert_eq!(err.message, "Invalid value for logoutMethod");

        let raw = parse(r#"{"redirectUri":"http://app/"}"#).unwrap();
        let a = AccountOptions::from_value(&raw).unwrap();
        assert_eq!(a.redirect_uri, Some("http://app/"));
        assert_eq!(
            AccountOptions::from_value(&Value::Null).unwrap(),
            AccountOptions::default()
        );
        assert!(AccountOptions::from_value(&parse(r#"{"redirectUri":1}"#).unwrap()).is_err());
    }

    /// Values of every JSON kind, for the sweep below.
    fn samples() -> Vec<Value> {
        [
            "null",
            "true",
            "false",
            "0",
            "-1",
            "5",
            "1e308",
            "\"\"",
            "\"S256\"",
            "\"query\"",
            "\"check-sso\"",
            "\"hybrid\"",
            "\"POST\"",
            "\"register\"",
            "\"x\"",
            "[]",
            "[null]",
            "{}",
            "{\"values\":[\"a\"]}",
        ]
        .iter()
        .map(|t| parse(t).unwrap())
        .collect()
    }

    #[test]
    fn any_value_of_any_option_is_accepted_or_rejected_without_panicking() {
        let names = [
            "useNonce",
            "adapter",
            "onLoad",
            "token",
            "refreshToken",
            "idToken",
            "timeSkew",
            "checkLoginIframe",
            "checkLoginIframeInterval",
            "responseMode",
            "redirectUri",
            "silentCheckSsoRedirectUri",
            "silentCheckSsoFallback",
            "flow",
            "pkceMethod",
            "enableLogging",
            "scope",
            "messageReceiveTimeout",
            "locale",
            "logoutMethod",
            "prompt",
            "action",
            "maxAge",
            "loginHint",
            "acr",
            "acrValues",
            "idpHint",
        ];
        for name in names {
            for value in samples() {
                let options = Value::Object(vec![(name.to_owned(), value.clone())]);
                for result in [
                    InitOptions::from_value(&options).map(|_| ()),
                    LoginOptions::from_value(&options).map(|_| ()),
                    LogoutOptions::from_value(&options).map(|_| ()),
                    AccountOptions::from_value(&options).map(|_| ()),
                ] {
                    if let Err(err) = result {
                        assert!(
                            matches!(err.code, ErrorCode::InvalidOption | ErrorCode::NotSupported),
                            "{name}: {err:?}"
                        );
                        assert!(!err.message.is_empty());
                    }
                }
                let _ = register_options(&options);
            }
        }
        for value in samples() {
            assert!(
                InitOptions::from_value(&value).is_ok()
                    == matches!(value, Value::Null | Value::Object(_))
            );
        }
    }
}
