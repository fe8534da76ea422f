//! The adapter's configuration: the three constructor forms and the endpoints they lead to.
//!
//! The constructor validates the shape at once ([`ConfigSource::from_value`]); `init()` then
//! fetches what the source names ([`ConfigSource::fetch_url`]: a keycloak.json or the OpenID
//! provider metadata) and resolves it into a [`Config`] ([`ConfigSource::resolve`]).

use crate::prelude::*;

use super::error::{Error, ErrorCode};
use super::json::Value;

pub use super::encode::encode_uri_component;

const CONSTRUCTOR_MESSAGE: &str = "The 'Keycloak' constructor must be provided with a configuration object, or a URL to a JSON configuration file.";

/// What was handed to the constructor.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigSource {
    /// `{ url, realm, clientId }`.
    Realm {
        url: String,
        realm: String,
        client_id: String,
    },
    /// A string: the URL of a keycloak.json, fetched during `init()`.
    JsonFile(String),
    /// `{ clientId, oidcProvider: "<issuer>" }`: the metadata is discovered during `init()`.
    OidcIssuer { client_id: String, issuer: String },
    /// `{ clientId, oidcProvider: { authorization_endpoint, ... } }`.
    OidcMetadata { client_id: String, metadata: Value },
}

/// The resolved configuration: what `init()` sets on the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub client_id: String,
    /// The `authServerUrl` property: the server URL as configured (Keycloak mode only).
    pub auth_server_url: Option<String>,
    /// The `realm` property (Keycloak mode only).
    pub realm: Option<String>,
    pub endpoints: Endpoints,
}

fn missing(name: &str) -> Error {
    let mut message = String::from("The configuration object is missing the required '");
    message.push_str(name);
    message.push_str("' property.");
    Error::new(ErrorCode::InvalidConfig, message)
}

fn not_a_string(name: &str) -> Error {
    let mut message = String::from("The configuration object's '");
    message.push_str(name);
    message.push_str("' property must be a string.");
    Error::new(ErrorCode::InvalidConfig, message)
}

/// A required string member. Presence is tested first, as keycloak-js does (`name in config`).
fn required_string(config: &Value, name: &str) -> Result<String, Error> {
    match config.get(name) {
        None => Err(missing(name)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(not_a_string(name)),
    }
}

impl ConfigSource {
    /// Validates the constructor argument (a string, or an object as `JSON.stringify` gives it).
    pub fn from_value(config: &Value) -> Result<Self, Error> {
        match config {
            Value::String(url) => Ok(ConfigSource::JsonFile(url.clone())),
            Value::Object(_) if config.get("oidcProvider").is_some() => {
                let client_id = required_string(config, "clientId")?;
                match config.get("oidcProvider") {
                    Some(Value::String(issuer)) => Ok(ConfigSource::OidcIssuer {
                        client_id,
                        issuer: issuer.clone(),
                    }),
                    Some(metadata @ Value::Object(_)) => Ok(ConfigSource::OidcMetadata {
                        client_id,
                        metadata: metadata.clone(),
                    }),
                    _ => Err(Error::new(
                        ErrorCode::InvalidConfig,
                        "The 'oidcProvider' property must be an issuer URL or an OpenID provider metadata object.",
                    )),
                }
            }
            Value::Object(_) => {
                // keycloak-js checks presence of all three before looking at any value.
                for name in ["url", "realm", "clientId"] {
                    if config.get(name).is_none() {
                        return Err(missing(name));
                    }
                }
                Ok(ConfigSource::Realm {
                    url: required_string(config, "url")?,
                    realm: required_string(config, "realm")?,
                    client_id: required_string(config, "clientId")?,
                })
            }
            _ => Err(Error::new(ErrorCode::InvalidConfig, CONSTRUCTOR_MESSAGE)),
        }
    }

    /// The client id when the constructor already knows it (every form but keycloak.json).
    pub fn client_id(&self) -> Option<&str> {
        match self {
            ConfigSource::Realm { client_id, .. }
            | ConfigSource::OidcIssuer { client_id, .. }
            | ConfigSource::OidcMetadata { client_id, .. } => Some(client_id),
            ConfigSource::JsonFile(_) => None,
        }
    }

    /// The URL `init()` must fetch (with `Accept: application/json`) before it can resolve.
    pub fn fetch_url(&self) -> Option<String> {
        match self {
            ConfigSource::JsonFile(url) => Some(url.clone()),
            ConfigSource::OidcIssuer { issuer, .. } => {
                let mut url = strip_trailing_slash(issuer).to_owned();
                url.push_str("/.well-known/openid-configuration");
                Some(url)
            }
            ConfigSource::Realm { .. } | ConfigSource::OidcMetadata { .. } => None,
        }
    }

    /// Resolves the configuration; `fetched` is the parsed body of [`Self::fetch_url`].
    pub fn resolve(&self, fetched: Option<&Value>) -> Result<Config, Error> {
        match self {
            ConfigSource::Realm {
                url,
                realm,
                client_id,
            } => Ok(Config::keycloak(url, realm, client_id)),
            ConfigSource::JsonFile(_) => {
                let json = fetched.filter(|v| v.is_object()).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidConfig,
                        "The JSON configuration file is not a JSON object.",
                    )
                })?;
                let field = |name: &str| {
                    json.get_str(name).ok_or_else(|| {
                        let mut message =
                            String::from("The JSON configuration file is missing the required '");
                        message.push_str(name);
                        message.push_str("' property.");
                        Error::new(ErrorCode::InvalidConfig, message)
                    })
                };
                Ok(Config::keycloak(
                    field("auth-server-url")?,
                    field("realm")?,
                    field("resource")?,
                ))
            }
            ConfigSource::OidcIssuer { client_id, .. } => {
                let metadata = fetched.filter(|v| v.is_object()).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidConfig,
                        "The OpenID provider metadata is not a JSON object.",
                    )
                })?;
                Ok(Config::oidc(client_id, metadata))
            }
            ConfigSource::OidcMetadata {
                client_id,
                metadata,
            } => Ok(Config::oidc(client_id, metadata)),
        }
    }
}

impl Config {
    /// Keycloak mode: every endpoint derives from the realm URL.
    pub fn keycloak(url: &str, realm: &str, client_id: &str) -> Self {
        Config {
            client_id: client_id.to_owned(),
            auth_server_url: Some(url.to_owned()),
            realm: Some(realm.to_owned()),
            endpoints: Endpoints::keycloak(&realm_url(url, realm)),
        }
    }

    /// Generic OIDC mode: the endpoints are the metadata's.
    pub fn oidc(client_id: &str, metadata: &Value) -> Self {
        Config {
            client_id: client_id.to_owned(),
            auth_server_url: None,
            realm: None,
            endpoints: Endpoints::from_metadata(metadata),
        }
    }
}

/// keycloak-js's `stripTrailingSlash`: removes one trailing `/`.
pub fn strip_trailing_slash(url: &str) -> &str {
    super::text::strip_suffix(url, b'/').unwrap_or(url)
}

/// `${url without one trailing slash}/realms/${encodeURIComponent(realm)}`.
pub fn realm_url(url: &str, realm: &str) -> String {
    let mut out = strip_trailing_slash(url).to_owned();
    out.push_str("/realms/");
    out.push_str(&encode_uri_component(realm));
    out
}

/// The server's endpoints. A missing one is an error when it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Keycloak mode only: the base of the account console and the profile endpoint.
    realm_url: Option<String>,
    authorize: Option<String>,
    token: Option<String>,
    logout: Option<String>,
    check_session_iframe: Option<String>,
    third_party_cookies_iframe: Option<String>,
    register: Option<String>,
    userinfo: Option<String>,
    /// The issuer that `iss` on the callback must equal (RFC 9207).
    issuer: Option<String>,
    /// Whether every callback must carry `iss`: the server says it always sends it.
    issuer_required: bool,
}

fn present(value: &Option<String>) -> Result<&str, Error> {
    value.as_deref().ok_or_else(Error::not_supported)
}

impl Endpoints {
    /// Keycloak's endpoints under `${realmUrl}/protocol/openid-connect`.
    pub fn keycloak(realm_url: &str) -> Self {
        let under = |path: &str| {
            let mut url = realm_url.to_owned();
            url.push_str("/protocol/openid-connect/");
            url.push_str(path);
            Some(url)
        };
        Endpoints {
            realm_url: Some(realm_url.to_owned()),
            authorize: under("auth"),
            token: under("token"),
            logout: under("logout"),
            check_session_iframe: under("login-status-iframe.html"),
            third_party_cookies_iframe: under("3p-cookies/step1.html"),
            register: under("registrations"),
            userinfo: under("userinfo"),
            issuer: Some(realm_url.to_owned()),
            // Keycloak names itself in every authorization response.
            issuer_required: true,
        }
    }

    /// The endpoints an OpenID provider's metadata lists. There is no third-party-cookie check
    /// and no registration page in this mode.
    pub fn from_metadata(metadata: &Value) -> Self {
        let get = |name: &str| metadata.get_str(name).map(str::to_owned);
        Endpoints {
            realm_url: None,
            authorize: get("authorization_endpoint"),
            token: get("token_endpoint"),
            logout: get("end_session_endpoint"),
            check_session_iframe: get("check_session_iframe"),
            third_party_cookies_iframe: None,
            register: None,
            userinfo: get("userinfo_endpoint"),
            issuer: get("issuer"),
            issuer_required: metadata
                .get("authorization_response_iss_parameter_supported")
                .is_some_and(|v| *v == Value::Bool(true)),
        }
    }

    pub fn authorize(&self) -> Result<&str, Error> {
        present(&self.authorize)
    }

    pub fn token(&self) -> Result<&str, Error> {
        present(&self.token)
    }

    pub fn logout(&self) -> Result<&str, Error> {
        present(&self.logout)
    }

    pub fn check_session_iframe(&self) -> Result<&str, Error> {
        present(&self.check_session_iframe)
    }

    /// None means: skip the third-party-cookie check (generic OIDC mode).
    pub fn third_party_cookies_iframe(&self) -> Option<&str> {
        self.third_party_cookies_iframe.as_deref()
    }

    pub fn register(&self) -> Result<&str, Error> {
        self.register.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::NotSupported,
                "Redirection to \"Register user\" page not supported in standard OIDC mode",
            )
        })
    }

    pub fn userinfo(&self) -> Result<&str, Error> {
        present(&self.userinfo)
    }

    /// The realm URL (Keycloak mode only).
    pub fn realm_url(&self) -> Option<&str> {
        self.realm_url.as_deref()
    }

    /// The URL of `loadUserProfile()`: `${realmUrl}/account`.
    pub fn user_profile(&self) -> Result<String, Error> {
        let realm_url = self.realm_url.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::NotSupported,
                "Unable to load user profile, make sure the adapter is not configured using a generic OIDC provider.",
            )
        })?;
        let mut url = realm_url.to_owned();
        url.push_str("/account");
        Ok(url)
    }

    /// The issuer the callback's `iss` must match, when known.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Whether a callback without `iss` is refused (RFC 9207 §2.4).
    pub fn issuer_required(&self) -> bool {
        self.issuer_required
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::parse;

    fn source(json: &str) -> Result<ConfigSource, Error> {
        ConfigSource::from_value(&parse(json).unwrap())
    }

    #[test]
    fn object_form_resolves_keycloak_endpoints() {
        let src =
            source(r#"{"url":"https://sso.example.com/","realm":"my realm","clientId":"app"}"#)
                .unwrap();
        assert_eq!(src.client_id(), Some("app"));
        assert_eq!(src.fetch_url(), None);
        let config = src.resolve(None).unwrap();
        assert_eq!(config.client_id, "app");
        assert_eq!(
            config.auth_server_url.as_deref(),
            Some("https://sso.example.com/")
        );
        assert_eq!(config.realm.as_deref(), Some("my realm"));
        let e = &config.endpoints;
        let base = "https://sso.example.com/realms/my%20realm/protocol/openid-connect";
        assert_eq!(e.authorize().unwrap(), format!("{base}/auth"));
        assert_eq!(e.token().unwrap(), format!("{base}/token"));
        assert_eq!(e.logout().unwrap(), format!("{base}/logout"));
        assert_eq!(
            e.check_session_iframe().unwrap(),
            format!("{base}/login-status-iframe.html")
        );
        assert_eq!(
            e.third_party_cookies_iframe(),
            Some(format!("{base}/3p-cookies/step1.html").as_str())
        );
        assert_eq!(e.register().unwrap(), format!("{base}/registrations"));
        assert_eq!(e.userinfo().unwrap(), format!("{base}/userinfo"));
        assert_eq!(
            e.realm_url(),
            Some("https://sso.example.com/realms/my%20realm")
        );
        assert_eq!(
            e.user_profile().unwrap(),
            "https://sso.example.com/realms/my%20realm/account"
        );
        assert_eq!(
            e.issuer(),
            Some("https://sso.example.com/realms/my%20realm")
        );
    }

    #[test]
    fn only_one_trailing_slash_is_stripped() {
        assert_eq!(realm_url("http://a//", "r"), "http://a//realms/r");
        assert_eq!(realm_url("http://a/auth", "r"), "http://a/auth/realms/r");
        assert_eq!(strip_trailing_slash(""), "");
    }

    #[test]
    fn constructor_rejects_other_types() {
        for json in ["null", "1", "true", "[]"] {
            let err = source(json).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidConfig);
            assert_eq!(
                err.message,
                "The 'Keycloak' constructor must be provided with a configuration object, or a URL to a JSON configuration file."
            );
        }
    }

    #[test]
    fn missing_properties_are_named_in_keycloak_js_order() {
        let cases = [
            (r#"{}"#, "url"),
            (r#"{"realm":"r","clientId":"c"}"#, "url"),
            (r#"{"url":"u","clientId":"c"}"#, "realm"),
            (r#"{"url":"u","realm":"r"}"#, "clientId"),
            // Presence is checked for all three before any type.
            (r#"{"url":1,"realm":"r"}"#, "clientId"),
            (r#"{"oidcProvider":"https://idp"}"#, "clientId"),
            (r#"{"oidcProvider":null,"url":"u","realm":"r"}"#, "clientId"),
        ];
        for (json, name) in cases {
            let err = source(json).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidConfig);
            assert_eq!(
                err.message,
                format!("The configuration object is missing the required '{name}' property."),
                "{json}"
            );
        }
    }

    #[test]
    fn values_must_be_strings() {
        let err = source(r#"{"url":"u","realm":5,"clientId":"c"}"#).unwrap_err();
        assert_eq!(
            err.message,
            "The configuration object's 'realm' property must be a string."
        );
        let err = source(r#"{"clientId":null,"oidcProvider":"x"}"#).unwrap_err();
        assert_eq!(
            err.message,
            "The configuration object's 'clientId' property must be a string."
        );
        let err = source(r#"{"clientId":"c","oidcProvider":7}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(err.message.contains("'oidcProvider'"));
    }

    #[test]
    fn json_file_form_reads_keycloak_json_keys() {
        let src = source(r#""/keycloak.json""#).unwrap();
        assert_eq!(src, ConfigSource::JsonFile("/keycloak.json".into()));
        assert_eq!(src.client_id(), None);
        assert_eq!(src.fetch_url().as_deref(), Some("/keycloak.json"));
        let file = parse(
            r#"{"realm":"demo","auth-server-url":"http://localhost:8080/","ssl-required":"external","resource":"web","public-client":true}"#,
        )
        .unwrap();
        let config = src.resolve(Some(&file)).unwrap();
        assert_eq!(config.client_id, "web");
        assert_eq!(config.realm.as_deref(), Some("demo"));
        assert_eq!(
            config.auth_server_url.as_deref(),
            Some("http://localhost:8080/")
        );
        assert_eq!(
            config.endpoints.authorize().unwrap(),
            "http://localhost:8080/realms/demo/protocol/openid-connect/auth"
        );
    }

    #[test]
    fn json_file_errors_name_the_missing_key() {
        let src = ConfigSource::JsonFile("/k.json".into());
        let err = src
            .resolve(Some(&parse(r#"{"realm":"r","resource":"c"}"#).unwrap()))
            .unwrap_err();
        assert_eq!(
            err.message,
            "The JSON configuration file is missing the required 'auth-server-url' property."
        );
        let err = src
            .resolve(Some(
                &parse(r#"{"realm":"r","auth-server-url":"u","resource":3}"#).unwrap(),
            ))
            .unwrap_err();
        assert!(err.message.contains("'resource'"));
        assert_eq!(
            src.resolve(Some(&parse("[]").unwrap())).unwrap_err().code,
            ErrorCode::InvalidConfig
        );
        assert_eq!(
            src.resolve(None).unwrap_err().code,
            ErrorCode::InvalidConfig
        );
    }

    #[test]
    fn oidc_issuer_form_discovers_metadata() {
        let src =
            source(r#"{"clientId":"c","oidcProvider":"https://idp.example/realms/x/"}"#).unwrap();
        assert_eq!(src.client_id(), Some("c"));
        assert_eq!(
            src.fetch_url().as_deref(),
            Some("https://idp.example/realms/x/.well-known/openid-configuration")
        );
        let metadata = parse(
            r#"{"issuer":"https://idp.example/realms/x","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t","userinfo_endpoint":"https://idp.example/u","end_session_endpoint":"https://idp.example/l","check_session_iframe":"https://idp.example/i"}"#,
        )
        .unwrap();
        let config = src.resolve(Some(&metadata)).unwrap();
        let e = &config.endpoints;
        assert_eq!(config.auth_server_url, None);
        assert_eq!(config.realm, None);
        assert_eq!(e.authorize().unwrap(), "https://idp.example/a");
        assert_eq!(e.token().unwrap(), "https://idp.example/t");
        assert_eq!(e.userinfo().unwrap(), "https://idp.example/u");
        assert_eq!(e.logout().unwrap(), "https://idp.example/l");
        assert_eq!(e.check_session_iframe().unwrap(), "https://idp.example/i");
        assert_eq!(e.third_party_cookies_iframe(), None);
        assert_eq!(e.issuer(), Some("https://idp.example/realms/x"));
        assert_eq!(
            src.resolve(Some(&parse("\"x\"").unwrap()))
                .unwrap_err()
                .code,
            ErrorCode::InvalidConfig
        );
    }

    #[test]
    fn oidc_metadata_form_reports_missing_endpoints_when_used() {
        let src = source(
            r#"{"clientId":"c","oidcProvider":{"authorization_endpoint":"https://idp/a","token_endpoint":"https://idp/t"}}"#,
        )
        .unwrap();
        assert_eq!(src.fetch_url(), None);
        let config = src.resolve(None).unwrap();
        let e = &config.endpoints;
        assert_eq!(e.authorize().unwrap(), "https://idp/a");
        for err in [
            e.logout().unwrap_err(),
            e.check_session_iframe().unwrap_err(),
            e.userinfo().unwrap_err(),
        ] {
            assert_eq!(err.code, ErrorCode::NotSupported);
            assert_eq!(err.message, "Not supported by the OIDC server");
        }
        let err = e.register().unwrap_err();
        assert_eq!(
            err.message,
            "Redirection to \"Register user\" page not supported in standard OIDC mode"
        );
        let err = e.user_profile().unwrap_err();
        assert_eq!(
            err.message,
            "Unable to load user profile, make sure the adapter is not configured using a generic OIDC provider."
        );
        assert_eq!(e.realm_url(), None);
        assert_eq!(e.issuer(), None);

        let empty = Endpoints::from_metadata(&parse("{}").unwrap());
        assert_eq!(empty.authorize().unwrap_err().code, ErrorCode::NotSupported);
        assert_eq!(empty.token().unwrap_err().code, ErrorCode::NotSupported);
    }

    #[test]
    fn any_shape_is_accepted_or_rejected_without_panicking() {
        let values = ["null", "1", "\"\"", "\"x\"", "[]", "{}", "{\"issuer\":1}"];
        for url in values {
            for realm in values {
                for client in values {
                    for provider in ["absent", "\"https://idp\"", "{}", "7"] {
                        let mut text =
                            format!(r#"{{"url":{url},"realm":{realm},"clientId":{client}"#);
                        if provider != "absent" {
                            text.push_str(&format!(r#","oidcProvider":{provider}"#));
                        }
                        text.push('}');
                        match source(&text) {
                            Ok(src) => {
                                let fetched =
                                    parse(r#"{"auth-server-url":"u","realm":"r","resource":"c"}"#)
                                        .unwrap();
                                if let Ok(config) = src.resolve(Some(&fetched)) {
                                    let _ = config.endpoints.authorize();
                                }
                            }
                            Err(err) => assert_eq!(err.code, ErrorCode::InvalidConfig, "{text}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn keycloak_and_servers_that_say_so_must_send_iss() {
        assert!(Endpoints::keycloak("http://kc/realms/d").issuer_required());
        for (metadata, required) in [
            (r#"{"issuer":"i"}"#, false),
            (
                r#"{"issuer":"i","authorization_response_iss_parameter_supported":false}"#,
                false,
            ),
            (
                r#"{"issuer":"i","authorization_response_iss_parameter_supported":"true"}"#,
                false,
            ),
            (
                r#"{"issuer":"i","authorization_response_iss_parameter_supported":true}"#,
                true,
            ),
        ] {
            let value = crate::core::json::parse(metadata).unwrap();
            assert_eq!(
                Endpoints::from_metadata(&value).issuer_required(),
                required,
                "{metadata}"
            );
        }
    }
}
