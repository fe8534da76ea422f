//! Shared helpers: an in-process server on a free port, a tiny cookie-keeping browser, and the
//! steps of a login.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use devserver::{RunningServer, ServerConfig};
use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn realm_file(name: &str) -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if name == "demo" {
        manifest.join("realms/demo.json")
    } else {
        manifest.join(format!("tests/realms/{name}.json"))
    }
}

pub struct Env {
    pub server: RunningServer,
    pub base: String,
    pub http: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub async fn start() -> Env {
    start_with(&["demo", "test", "rotating"]).await
}

pub async fn start_with(realms: &[&str]) -> Env {
    start_config(realms, devserver::hub::HubConfig::default()).await
}

/// A server with these realms and hub settings.
pub async fn start_config(realms: &[&str], hub: devserver::hub::HubConfig) -> Env {
    let config = ServerConfig {
        port: 0,
        realm_files: realms.iter().map(|r| realm_file(r)).collect(),
        signing_key: Some(devserver::testkey::shared_key().unwrap()),
        hub,
        ..ServerConfig::default()
    };
    let server = devserver::start(config).await.unwrap();
    let base = server.url();
    Env {
        server,
        base,
        http: client(),
    }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn oidc(&self, realm: &str, endpoint: &str) -> String {
        self.url(&format!(
            "/realms/{realm}/protocol/openid-connect/{endpoint}"
        ))
    }

    /// A GET without cookies; redirects are not followed.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// The JSON body of a GET, whatever its status.
    pub async fn get_json(&self, url: &str) -> Value {
        self.get(url).await.json().await.unwrap()
    }

    /// A GET with a bearer token.
    pub async fn get_with_token(&self, url: &str, token: &str) -> reqwest::Response {
        self.http.get(url).bearer_auth(token).send().await.unwrap()
    }

    pub async fn post_form(&self, url: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(url).form(pairs).send().await.unwrap()
    }

    /// A form POST by a confidential client that authenticates with HTTP Basic.
    pub async fn post_form_as(
        &self,
        url: &str,
        (client, secret): (&str, &str),
        pairs: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(url)
            .basic_auth(client, Some(secret))
            .form(pairs)
            .send()
            .await
            .unwrap()
    }

    /// A refresh-token grant of a public client.
    pub async fn refresh(
        &self,
        realm: &str,
        client: &str,
        refresh_token: &str,
    ) -> reqwest::Response {
        self.post_form(
            &self.oidc(realm, "token"),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", client),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// A password-grant token of a realm user.
    pub async fn password_grant(
        &self,
        realm: &str,
        client: &str,
        user: &str,
        password: &str,
    ) -> Value {
        let response = self
            .post_form(
                &self.oidc(realm, "token"),
                &[
                    ("grant_type", "password"),
                    ("client_id", client),
                    ("username", user),
                    ("password", password),
                    ("scope", "openid"),
                ],
            )
            .await;
        assert_eq!(response.status(), 200, "password grant for {user}");
        response.json().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        let body = self
            .password_grant("master", "admin-cli", "admin", "admin")
            .await;
        body["access_token"].as_str().unwrap().to_string()
    }

    /// The admin API, with a fresh token of the master realm's admin.
    pub async fn admin(&self) -> Admin<'_> {
        Admin {
            env: self,
            token: self.admin_token().await,
        }
    }

    /// The realm's events, newest first.
    pub async fn events(&self, realm: &str) -> Vec<Value> {
        let events = self
            .admin()
            .await
            .get(&format!("/admin/realms/{realm}/events"))
            .await;
        serde_json::from_value(events).unwrap()
    }
}

/// Calls to the admin API (`/admin/...`) with an admin's bearer token.
pub struct Admin<'a> {
    pub env: &'a Env,
    pub token: String,
}

impl Admin<'_> {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .env
            .http
            .request(method, self.env.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// The JSON of a GET that must succeed with 200.
    pub async fn get(&self, path: &str) -> Value {
        let response = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// The id of a realm's user, found by exact username.
    pub async fn user_id(&self, realm: &str, username: &str) -> String {
        let users = self
            .get(&format!(
                "/admin/realms/{realm}/users?username={username}&exact=true"
            ))
            .await;
        users[0]["id"].as_str().unwrap().to_string()
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// The client with this clientId, as `GET /clients?clientId=` finds it.
    pub async fn client(&self, realm: &str, client_id: &str) -> Value {
        let found = self
            .get(&format!(
                "/admin/realms/{realm}/clients?clientId={client_id}"
            ))
            .await;
        assert_eq!(
            found.as_array().unwrap().len(),
            1,
            "one client {client_id} in {realm}"
        );
        found[0].clone()
    }

    pub async fn client_roles(&self, realm: &str, client_id: &str) -> Value {
        let uuid = self.client(realm, client_id).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.get(&format!("/admin/realms/{realm}/clients/{uuid}/roles"))
            .await
    }

    /// A new realm with a public client `spa` that allows the password grant.
    pub async fn realm_with_spa(&self, realm: &str) {
        let created = self
            .post(
                "/admin/realms",
                serde_json::json!({ "realm": realm, "enabled": true }),
            )
            .await;
        assert_eq!(created.status(), 201, "realm {realm}");
        let created = self
            .post(
                &format!("/admin/realms/{realm}/clients"),
                serde_json::json!({ "clientId": "spa", "publicClient": true, "directAccessGrantsEnabled": true }),
            )
            .await;
        assert_eq!(created.status(), 201, "client spa");
    }

    /// A new enabled user with a password; returns its id.
    pub async fn user_with_password(&self, realm: &str, username: &str, password: &str) -> String {
        let created = self
            .post(
                &format!("/admin/realms/{realm}/users"),
                serde_json::json!({ "username": username, "enabled": true,
                    "credentials": [{ "type": "password", "value": password }] }),
            )
            .await;
        assert_eq!(created.status(), 201, "user {username}");
        location_id(&created)
    }
}

/// The string field `key` of every object in a JSON array, sorted.
pub fn sorted_field(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// Keeps cookies by name, as a browser would for one site, and remembers raw Set-Cookie lines.
pub struct Browser {
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub set_cookie_lines: Vec<String>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: client(),
            cookies: BTreeMap::new(),
            set_cookie_lines: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let line = value.to_str().unwrap().to_string();
            let (pair, attributes) = line.split_once(';').unwrap_or((&line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let expired = attributes.contains("Max-Age=0");
            if expired || value.is_empty() {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.to_string());
            }
            self.set_cookie_lines.push(line);
        }
    }

    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let response = self
            .http
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.remember(response.headers());
        response
    }

    pub async fn post_form(&mut self, url: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .http
            .post(url)
            .header(COOKIE, self.cookie_header())
            .form(pairs)
            .send()
            .await
            .unwrap();
        self.remember(response.headers());
        response
    }

    pub fn set_cookie_line(&self, name: &str) -> Option<&String> {
        self.set_cookie_lines
            .iter()
            .rev()
            .find(|l| l.starts_with(&format!("{name}=")))
    }
}

/// The last path segment of the Location header: the id of a created resource.
pub fn location_id(response: &reqwest::Response) -> String {
    location(response).rsplit('/').next().unwrap().to_string()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location header (status {})", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// Parameters of a callback URL, from its fragment if it has one, else its query.
pub fn callback_params(url: &str) -> BTreeMap<String, String> {
    let part = match url.split_once('#') {
        Some((_, fragment)) => fragment.to_string(),
        None => url
            .split_once('?')
            .map(|(_, q)| q.to_string())
            .unwrap_or_default(),
    };
    form_urlencoded::parse(part.as_bytes())
        .into_owned()
        .collect()
}

pub fn query_params(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The `action` of the first form with this id, unescaped.
pub fn form_action(html: &str, form_id: &str) -> String {
    let marker = format!("id=\"{form_id}\" action=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form {form_id} in page: {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

/// The one-time code of a logout confirmation page.
pub fn logout_session_code(html: &str) -> String {
    let marker = "name=\"session_code\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no logout confirmation in page: {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier =
        format!("{}{}", devserver::util::uuid(), devserver::util::uuid()).replace('-', "x");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// Builds an authorization URL from parameters.
pub fn auth_url(env: &Env, realm: &str, params: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{}?{}", env.oidc(realm, "auth"), query)
}

/// Opens the login page, submits the credentials, and returns the final response (the redirect
/// to the client on success).
pub async fn login(
    browser: &mut Browser,
    env: &Env,
    auth_url: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let page = browser.get(auth_url).await;
    assert_eq!(page.status(), 200, "login page");
    let html = page.text().await.unwrap();
    let action = form_action(&html, "kc-form-login");
    browser
        .post_form(
            &env.url(&action),
            &[("username", username), ("password", password)],
        )
        .await
}

/// A full standard-flow login to the demo realm's client; returns (callback params, pkce).
pub async fn demo_login(
    browser: &mut Browser,
    env: &Env,
    user: &str,
) -> (BTreeMap<String, String>, Pkce) {
    let pkce = pkce();
    let url = auth_url(
        env,
        "demo",
        &[
            ("client_id", "demo-app"),
            ("redirect_uri", "http://localhost:8080/app"),
            ("state", "st-1"),
            ("response_mode", "fragment"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("nonce", "no-1"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = login(browser, env, &url, user, user).await;
    assert_eq!(response.status(), 302);
    (callback_params(&location(&response)), pkce)
}

/// Exchanges a demo-app code for tokens.
pub async fn demo_exchange(env: &Env, code: &str, pkce: &Pkce) -> Value {
    let response = env
        .post_form(
            &env.oidc("demo", "token"),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "demo-app"),
                ("code", code),
                ("redirect_uri", "http://localhost:8080/app"),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub fn sha256_b64url(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}
