//! Form posts of the login flow (`/login-actions/...`): credentials, registration and the
//! required action requested with `kc_action`.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::authorize::{
    complete_login, error_page, error_response, login_page, realm_title, registration_page,
    required_action_page,
};
use super::{new_user_session, sso_session, Sso, AUTH_SESSION_COOKIE};
use crate::events::EventBuilder;
use crate::http::{html, realm_not_found, RequestInfo};
use crate::model::{is_reserved_username, Password, Realm};
use crate::pages;
use crate::sessions::AuthSession;
use crate::state::{AppState, Shared};
use crate::util::{form_decode, pair_value};

/// The `tab_id` that the login form's URL carries.
fn tab_id(query: &Option<String>) -> String {
    let params = form_decode(query.as_deref().unwrap_or_default());
    pair_value(&params, "tab_id")
        .unwrap_or_default()
        .to_string()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    pair_value(form, name).unwrap_or_default()
}

/// The login in progress in this tab of this browser. When it took too long (or the fault knob
/// expired it) the client is told so. A form that this browser did not open gets Keycloak's
/// answers instead: "already logged in" to a browser with an SSO session, else an error page.
fn pending(
    state: &AppState,
    realm: &mut Realm,
    tab_id: &str,
    info: &RequestInfo,
    now: u64,
) -> Result<Box<AuthSession>, Response> {
    let browser = info.cookie(AUTH_SESSION_COOKIE);
    let found = realm
        .auth_sessions
        .get(tab_id)
        .filter(|s| browser.as_deref() == Some(s.browser.as_str()))
        .cloned();
    match found {
        Some(session) if session.is_expired(now, &realm.settings) => {
            realm.auth_sessions.remove(tab_id);
            let issuer = info.issuer(&realm.name);
            Err(error_response(
                &session.request,
                &issuer,
                "temporarily_unavailable",
                Some("authentication_expired"),
            ))
        }
        Some(session) => Ok(Box::new(session)),
        None => Err(not_this_browsers_form(
            state,
            realm,
            info,
            now,
            browser.is_some(),
        )),
    }
}

fn not_this_browsers_form(
    state: &AppState,
    realm: &Realm,
    info: &RequestInfo,
    now: u64,
    has_auth_session: bool,
) -> Response {
    if let Sso::Active(_) = sso_session(realm, &state.keys(), info, now) {
        return html(
            StatusCode::OK,
            pages::info(&realm_title(realm), "You are already logged in."),
        );
    }
    let message = if has_auth_session {
        "Your login attempt timed out. Login will start from the beginning."
    } else {
        "Cookie not found. Please make sure cookies are enabled in your browser."
    };
    error_page(realm, StatusCode::BAD_REQUEST, message)
}

fn lang(session: &AuthSession) -> String {
    session
        .request
        .ui_locales
        .as_deref()
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("en")
        .to_string()
}

pub async fn show_login(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Result<Response, Response> {
    let now = state.now();
    let mut realms = state.realms();
    let realm = realms.get_mut(&realm_name).ok_or_else(realm_not_found)?;
    let tab_id = tab_id(&query);
    let session = pending(&state, realm, &tab_id, &info, now)?;
    let hint = session.request.login_hint.clone().unwrap_or_default();
    Ok(login_page(
        realm,
        &tab_id,
        &session.request.client_id,
        &lang(&session),
        &hint,
        None,
    ))
}

pub async fn authenticate(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
    body: String,
) -> Result<Response, Response> {
    let now = state.now();
    let form = form_decode(&body);
    let mut realms = state.realms();
    let realm = realms.get_mut(&realm_name).ok_or_else(realm_not_found)?;
    let tab_id = tab_id(&query);
    let session = pending(&state, realm, &tab_id, &info, now)?;
    let request = session.request.clone();
    let username = field(&form, "username").trim().to_string();
    let password = field(&form, "password");
    let event = EventBuilder::new("LOGIN", &realm.id, &realm.name, &info.ip)
        .client(&request.client_id)
        .detail("auth_method", "openid-connect")
        .detail("auth_type", request.auth_type())
        .detail("redirect_uri", &request.redirect_uri)
        .detail("username", &username);

    let user = realm.user_for_login(&username).cloned();
    let failure = match &user {
        None => Some(("user_not_found", "Invalid username or password.")),
        Some(u) if !u.enabled => Some((
            "user_disabled",
            "Account is disabled, contact your administrator.",
        )),
        Some(u) if !u.password.as_ref().is_some_and(|p| p.matches(password)) => {
            Some(("invalid_user_credentials", "Invalid username or password."))
        }
        Some(_) => None,
    };
    if let Some((error, message)) = failure {
        let mut event = event.error(error);
        if let Some(u) = &user {
            event = event.user(&u.id);
        }
        state.emit(event);
        return Ok(login_page(
            realm,
            &tab_id,
            &request.client_id,
            &lang(&session),
            &username,
            Some(message),
        ));
    }
    let Some(user) = user else {
        return Err(error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "User not found.",
        ));
    };
    // Like Keycloak, a new login in this browser replaces the SSO session it had.
    if let Sso::Active(previous) = sso_session(realm, &state.keys(), &info, now) {
        realm.sessions.remove(&previous);
    }
    let session_id = new_user_session(realm, &user.id, &info.ip, now);
    if request.kc_action.is_some() {
        if let Some(pending) = realm.auth_sessions.get_mut(&tab_id) {
            pending.authenticated_session = Some(session_id);
        }
        return Ok(required_action_page(realm, &tab_id, &request.client_id));
    }
    realm.auth_sessions.remove(&tab_id);
    let keys = state.keys();
    Ok(complete_login(
        &state,
        realm,
        &keys,
        &info,
        &request,
        &session_id,
        true,
        None,
    ))
}

pub async fn required_action(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
    body: String,
) -> Result<Response, Response> {
    let now = state.now();
    let form = form_decode(&body);
    let mut realms = state.realms();
    let realm = realms.get_mut(&realm_name).ok_or_else(realm_not_found)?;
    let tab_id = tab_id(&query);
    let session = pending(&state, realm, &tab_id, &info, now)?;
    let Some(session_id) = session.authenticated_session.clone() else {
        return Err(error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "Invalid request.",
        ));
    };
    realm.auth_sessions.remove(&tab_id);
    let action = session.request.kc_action.clone().unwrap_or_default();
    let cancelled = form.iter().any(|(k, _)| k == "cancel-aia");
    let status = if cancelled { "cancelled" } else { "success" };
    let fresh = session.request.prompt.as_deref() == Some("login");
    let keys = state.keys();
    Ok(complete_login(
        &state,
        realm,
        &keys,
        &info,
        &session.request,
        &session_id,
        fresh,
        Some((status, &action)),
    ))
}

/// The realm of a registration form, if it lets users register.
fn registration_realm<'a>(
    realms: &'a mut BTreeMap<String, Realm>,
    name: &str,
) -> Result<&'a mut Realm, Response> {
    let realm = realms.get_mut(name).ok_or_else(realm_not_found)?;
    if !realm.settings.registration_allowed {
        return Err(error_page(
            realm,
            StatusCode::FORBIDDEN,
            "Registration not allowed",
        ));
    }
    Ok(realm)
}

pub async fn show_registration(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Result<Response, Response> {
    let now = state.now();
    let mut realms = state.realms();
    let realm = registration_realm(&mut realms, &realm_name)?;
    let tab_id = tab_id(&query);
    let session = pending(&state, realm, &tab_id, &info, now)?;
    Ok(registration_page(
        realm,
        &tab_id,
        &session.request.client_id,
        &lang(&session),
        ["", "", "", ""],
        None,
    ))
}

/// What is wrong with a registration form: the event's error code and the message to show.
fn registration_error(
    realm: &Realm,
    form: &[(String, String)],
) -> Option<(&'static str, &'static str)> {
    let invalid = |message| Some(("invalid_registration", message));
    let username = field(form, "username").trim();
    let email = field(form, "email").trim();
    if field(form, "firstName").trim().is_empty() {
        return invalid("Please specify first name.");
    }
    if field(form, "lastName").trim().is_empty() {
        return invalid("Please specify last name.");
    }
    if email.is_empty() {
        return invalid("Please specify email.");
    }
    let valid_email = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
    });
    if !valid_email {
        return invalid("Invalid email address.");
    }
    if username.is_empty() {
        return invalid("Please specify username.");
    }
    if field(form, "password").is_empty() {
        return invalid("Please specify password.");
    }
    if field(form, "password") != field(form, "password-confirm") {
        return invalid("Password confirmation doesn't match.");
    }
    // Names of service accounts count as taken, whether or not the client exists yet.
    if realm.user_by_username(username).is_some() || is_reserved_username(username) {
        return Some(("username_in_use", "Username already exists."));
    }
    if realm.user_by_email(email).is_some() {
        return Some(("email_in_use", "Email already exists."));
    }
    None
}

pub async fn register(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
    body: String,
) -> Result<Response, Response> {
    let now = state.now();
    let now_ms = state.now_ms();
    let form = form_decode(&body);
    let mut realms = state.realms();
    let realm = registration_realm(&mut realms, &realm_name)?;
    let tab_id = tab_id(&query);
    let session = pending(&state, realm, &tab_id, &info, now)?;
    let request = session.request.clone();
    let values = [
        field(&form, "firstName"),
        field(&form, "lastName"),
        field(&form, "email"),
        field(&form, "username"),
    ];
    if let Some((error, message)) = registration_error(realm, &form) {
        state.emit(
            EventBuilder::new("REGISTER", &realm.id, &realm.name, &info.ip)
                .client(&request.client_id)
                .detail("username", field(&form, "username"))
                .detail("email", field(&form, "email"))
                .error(error),
        );
        return Ok(registration_page(
            realm,
            &tab_id,
            &request.client_id,
            &lang(&session),
            values,
            Some(message),
        ));
    }
    let mut user = realm.new_user(field(&form, "username").trim(), now_ms);
    user.first_name = Some(field(&form, "firstName").trim().to_string());
    user.last_name = Some(field(&form, "lastName").trim().to_string());
    user.email = Some(field(&form, "email").trim().to_lowercase());
    user.password = Some(Password::new(field(&form, "password")));
    let user_id = user.id.clone();
    let username = user.username.clone();
    let email = user.email.clone().unwrap_or_default();
    realm.users.push(user);
    let session_id = new_user_session(realm, &user_id, &info.ip, now);
    state.emit(
        EventBuilder::new("REGISTER", &realm.id, &realm.name, &info.ip)
            .client(&request.client_id)
            .user(&user_id)
            .session(&session_id)
            .detail("auth_method", "openid-connect")
            .detail("auth_type", request.auth_type())
            .detail("register_method", "form")
            .detail("redirect_uri", &request.redirect_uri)
            .detail("username", &username)
            .detail("email", &email),
    );
    realm.auth_sessions.remove(&tab_id);
    let keys = state.keys();
    Ok(complete_login(
        &state,
        realm,
        &keys,
        &info,
        &request,
        &session_id,
        true,
        None,
    ))
}
