//! Discovery: the OpenID provider metadata, the realm's public info and the JWKS.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::http::{cors, realm_not_found, RequestInfo};
use crate::state::Shared;

fn realm_exists(state: &Shared, realm: &str) -> bool {
    state
        .realms()
        .get(realm)
        .is_some_and(|r| r.settings.enabled)
}

pub async fn openid_configuration(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if let Some(response) = state.faults.inject_api("well-known", &realm, None).await {
        return response;
    }
    if !realm_exists(&state, &realm) {
        return realm_not_found();
    }
    let issuer = info.issuer(&realm);
    let oidc = format!("{issuer}/protocol/openid-connect");
    let body = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{oidc}/auth"),
        "token_endpoint": format!("{oidc}/token"),
        "introspection_endpoint": format!("{oidc}/token/introspect"),
        "userinfo_endpoint": format!("{oidc}/userinfo"),
        "end_session_endpoint": format!("{oidc}/logout"),
        "frontchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "jwks_uri": format!("{oidc}/certs"),
        "check_session_iframe": format!("{oidc}/login-status-iframe.html"),
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password", "client_credentials"],
        "acr_values_supported": ["0", "1"],
        "response_types_supported": ["code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"],
        "subject_types_supported": ["public", "pairwise"],
        "prompt_values_supported": ["none", "login", "consent"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["RS256", "none"],
        "request_object_signing_alg_values_supported": ["RS256", "none"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "registration_endpoint": format!("{issuer}/clients-registrations/openid-connect"),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["aud", "sub", "iss", "auth_time", "name", "given_name", "family_name", "preferred_username", "email", "acr"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": true,
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access", "roles", "web-origins", "acr", "basic", "microprofile-jwt", "organization"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": true,
        "code_challenge_methods_supported": ["plain", "S256"],
        "tls_client_certificate_bound_access_tokens": true,
        "revocation_endpoint": format!("{oidc}/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "authorization_response_iss_parameter_supported": true,
    });
    let mut response = Json(body).into_response();
    // Keycloak serves discovery to any origin.
    cors(&mut response, info.origin(), true);
    response
}

pub async fn realm_info(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if !realm_exists(&state, &realm) {
        return realm_not_found();
    }
    let issuer = info.issuer(&realm);
    let not_before = state
        .realms()
        .get(&realm)
        .map(|r| r.not_before)
        .unwrap_or(0);
    let body = json!({
        "realm": realm,
        "public_key": state.keys().public_key_der_b64(),
        "token-service": format!("{issuer}/protocol/openid-connect"),
        "account-service": format!("{issuer}/account"),
        "tokens-not-before": not_before,
    });
    let mut response = Json(body).into_response();
    cors(&mut response, info.origin(), true);
    response
}

pub async fn certs(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if let Some(response) = state.faults.inject_api("certs", &realm, None).await {
        return response;
    }
    if !realm_exists(&state, &realm) {
        return realm_not_found();
    }
    let mut response = Json(state.keys().jwks()).into_response();
    cors(&mut response, info.origin(), true);
    response
}
