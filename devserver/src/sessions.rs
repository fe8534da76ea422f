//! Server-side state of a login: pending authorization requests (Keycloak's authentication
//! sessions), issued authorization codes, and SSO user sessions with their client sessions.

use std::collections::BTreeMap;

use crate::model::RealmSettings;

/// What the authorization endpoint was asked for; kept while the login form is shown.
#[derive(Clone, Debug, Default)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub response_mode: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub kc_action: Option<String>,
    pub ui_locales: Option<String>,
}

impl AuthRequest {
    pub fn response_types(&self) -> impl Iterator<Item = &str> {
        self.response_type.split_whitespace()
    }

    pub fn has_response_type(&self, wanted: &str) -> bool {
        self.response_types().any(|t| t == wanted)
    }

    /// `response_type` containing a token (implicit or hybrid).
    pub fn is_implicit_or_hybrid(&self) -> bool {
        self.has_response_type("token") || self.has_response_type("id_token")
    }

    pub fn auth_type(&self) -> &'static str {
        match (self.has_response_type("code"), self.is_implicit_or_hybrid()) {
            (true, true) => "hybrid",
            (false, true) => "implicit",
            _ => "code",
        }
    }
}

/// A pending login (the login or registration form is showing).
#[derive(Clone, Debug)]
pub struct AuthSession {
    pub tab_id: String,
    /// The `AUTH_SESSION_ID` of the browser that opened the form; posts from any other browser
    /// are refused (login CSRF).
    pub browser: String,
    pub request: AuthRequest,
    pub created: u64,
    /// Set once the user is authenticated but a required action (kc_action) is still pending.
    pub authenticated_session: Option<String>,
    /// Marked by the fault knob or by age: the next form post answers `authentication_expired`.
    pub expired: bool,
}

impl AuthSession {
    pub fn is_expired(&self, now: u64, settings: &RealmSettings) -> bool {
        self.expired || now >= self.created + settings.access_code_lifespan_login
    }
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub code: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub session_id: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires: u64,
    pub used: bool,
}

/// Per client inside a user session: what refresh-token rotation needs.
#[derive(Clone, Debug, Default)]
pub struct ClientSession {
    /// With revokeRefreshToken: the refresh token last used, how often, and when a refresh
    /// last happened (Keycloak's reuse bookkeeping).
    pub current_refresh_jti: Option<String>,
    pub refresh_reuse_count: u32,
    pub last_refresh: u64,
    pub scope: String,
}

#[derive(Clone, Debug)]
pub struct UserSession {
    pub id: String,
    pub user_id: String,
    pub started: u64,
    pub last_refresh: u64,
    pub auth_time: u64,
    pub ip_address: String,
    /// clientId → client session
    pub clients: BTreeMap<String, ClientSession>,
    /// A service-account session from client_credentials: no SSO cookie, no sid.
    pub transient: bool,
}

/// Keycloak lets an idle session live this much longer than its idle timeout, for clock skew.
const IDLE_GRACE_SECONDS: u64 = 120;

impl UserSession {
    pub fn is_active(&self, now: u64, settings: &RealmSettings) -> bool {
        now < self.last_refresh + settings.sso_session_idle_timeout + IDLE_GRACE_SECONDS
            && now < self.started + settings.sso_session_max_lifespan
    }

    /// When a refresh token issued now expires: the earlier of idle timeout and max lifespan.
    pub fn refresh_expiry(&self, now: u64, settings: &RealmSettings) -> u64 {
        (now + settings.sso_session_idle_timeout)
            .min(self.started + settings.sso_session_max_lifespan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(started: u64) -> UserSession {
        UserSession {
            id: "s".into(),
            user_id: "u".into(),
            started,
            last_refresh: started,
            auth_time: started,
            ip_address: "127.0.0.1".into(),
            clients: BTreeMap::new(),
            transient: false,
        }
    }

    #[test]
    fn idle_and_max_lifespan_end_a_session() {
        let settings = RealmSettings {
            sso_session_idle_timeout: 100,
            sso_session_max_lifespan: 1000,
            ..RealmSettings::default()
        };
        let mut s = session(0);
        assert!(s.is_active(219, &settings));
        assert!(!s.is_active(220, &settings));
        s.last_refresh = 950;
        assert!(s.is_active(999, &settings));
        assert!(!s.is_active(1000, &settings));
        assert_eq!(s.refresh_expiry(950, &settings), 1000);
        assert_eq!(s.refresh_expiry(10, &settings), 110);
    }

    #[test]
    fn auth_type_follows_response_type() {
        let mut r = AuthRequest {
            response_type: "code".into(),
            ..AuthRequest::default()
        };
        assert_eq!(r.auth_type(), "code");
        r.response_type = "id_token token".into();
        assert_eq!(r.auth_type(), "implicit");
        r.response_type = "code id_token token".into();
        assert_eq!(r.auth_type(), "hybrid");
    }
}
