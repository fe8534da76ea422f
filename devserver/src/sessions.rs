//! Server-side state of a login: pending authorization requests (Keycloak's authentication
//! sessions), issued authorization codes, and SSO user sessions with their client sessions.

use std::collections::{BTreeMap, HashMap};

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

/// A logout waiting for the user's confirmation.
#[derive(Clone, Debug)]
pub struct PendingLogout {
    pub created: u64,
    /// Where to send the browser afterwards (already checked against the client).
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    /// The session an `id_token_hint` named when it was not the browser's own: the one that the
    /// confirmed logout ends.
    pub hinted_session: Option<String>,
    /// The `AUTH_SESSION_ID` of the browser that was asked: only that browser can confirm.
    pub browser: String,
}

/// How long a logout confirmation can be answered: Keycloak's default lifespan of user actions
/// (`accessCodeLifespanUserAction`).
pub const LOGOUT_CONFIRMATION_LIFESPAN: u64 = 300;

/// At most this many confirmations wait per realm; a new one pushes out the oldest.
pub const MAX_PENDING_LOGOUTS: usize = 1000;

/// Logout confirmations by their one-time code, bounded in age and number.
#[derive(Debug, Default)]
pub struct PendingLogouts {
    /// code → (insertion number, logout)
    by_code: HashMap<String, (u64, PendingLogout)>,
    inserted: u64,
}

impl PendingLogouts {
    pub fn insert(&mut self, code: String, logout: PendingLogout, now: u64) {
        self.by_code
            .retain(|_, (_, l)| now < l.created + LOGOUT_CONFIRMATION_LIFESPAN);
        while self.by_code.len() >= MAX_PENDING_LOGOUTS {
            let oldest = self
                .by_code
                .iter()
                .min_by_key(|(_, (number, _))| *number)
                .map(|(code, _)| code.clone());
            match oldest {
                Some(code) => self.by_code.remove(&code),
                None => break,
            };
        }
        self.inserted += 1;
        self.by_code.insert(code, (self.inserted, logout));
    }

    /// The logout of this code, once, if it has not expired and `browser` is the one that was
    /// asked. A post from another browser leaves the confirmation to its own browser.
    pub fn take(&mut self, code: &str, browser: Option<&str>, now: u64) -> Option<PendingLogout> {
        let (_, logout) = self.by_code.get(code)?;
        if browser != Some(logout.browser.as_str()) {
            return None;
        }
        self.by_code
            .remove(code)
            .map(|(_, logout)| logout)
            .filter(|l| now < l.created + LOGOUT_CONFIRMATION_LIFESPAN)
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
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

    fn logout(created: u64) -> PendingLogout {
        PendingLogout {
            created,
            redirect_uri: None,
            state: None,
            hinted_session: None,
            browser: "b".into(),
        }
    }

    #[test]
    fn logout_confirmations_expire() {
        let mut pending = PendingLogouts::default();
        pending.insert("a".into(), logout(100), 100);
        pending.insert("b".into(), logout(100), 100);
        assert!(pending.take("a", Some("b"), 399).is_some());
        assert!(
            pending.take("a", Some("b"), 399).is_none(),
            "a code works once"
        );
        assert!(pending.take("b", Some("b"), 400).is_none());
        pending.insert("c".into(), logout(500), 500);
        pending.insert("d".into(), logout(900), 900);
        assert_eq!(pending.len(), 1, "expired ones are dropped on insert");
    }

    #[test]
    fn only_the_browser_that_was_asked_confirms() {
        let mut pending = PendingLogouts::default();
        pending.insert("a".into(), logout(100), 100);
        assert!(pending.take("a", None, 100).is_none());
        assert!(pending.take("a", Some("other"), 100).is_none());
        assert!(
            pending.take("a", Some("b"), 100).is_some(),
            "a refused post leaves the confirmation to its browser"
        );
    }

    #[test]
    fn logout_confirmations_are_capped_oldest_first() {
        let mut pending = PendingLogouts::default();
        for n in 0..MAX_PENDING_LOGOUTS + 5 {
            pending.insert(format!("code-{n}"), logout(7), 7);
        }
        assert_eq!(pending.len(), MAX_PENDING_LOGOUTS);
        for n in 0..5 {
            assert!(
                pending.take(&format!("code-{n}"), Some("b"), 7).is_none(),
                "{n}"
            );
        }
        assert!(pending.take("code-5", Some("b"), 7).is_some());
        assert!(pending
            .take(&format!("code-{}", MAX_PENDING_LOGOUTS + 4), Some("b"), 7)
            .is_some());
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
