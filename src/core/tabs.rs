//! Tokens shared between the tabs of one origin. With refresh-token rotation
//! (`revokeRefreshToken`), a refresh in one tab makes the refresh tokens of the others stale, and
//! their next refresh logs them out. So a tab that refreshed tells the others (over a
//! `BroadcastChannel`) and they take its tokens; refreshes are also taken one at a time across
//! tabs (a Web Lock), so that two tabs never spend refresh tokens of one session at once.
//!
//! Every page of the origin can post on the channel, so nothing heard there is taken on trust:
//! shared tokens are taken only when they fit this tab's login ([`should_adopt`]), and a logout
//! message only makes a tab ask the server whether its session really ended
//! ([`should_verify_session`]). A logout is announced twice: when a tab starts it (the provider
//! may still ask the user to confirm, and the user may say no) and when that tab is back from
//! the provider ([`LOGOUT_MARKER_KEY`]); each time the other tabs check, so they end their
//! login once the session has ended, and never while it lives.

use crate::prelude::*;

use super::json::{parse, write_string, Value};
use super::token::{is_token_expired, ParsedToken, TokenSet};

/// After waiting for another tab's refresh, how long to wait for the tokens it shares before
/// refreshing anyway (its refresh may have failed). The tokens usually arrive within
/// milliseconds; the lock and the channel are not ordered with each other.
pub const SHARED_TOKENS_WAIT_MS: f64 = 1000.0;

/// The `sessionStorage` entry a tab leaves before it goes to the provider's logout, under this
/// prefix and the channel name: the session id. Back from the provider, the tab finds it and
/// tells the other tabs to check their session.
pub const LOGOUT_MARKER_KEY: &str = "kc-logout ";

/// The key of the [`LOGOUT_MARKER_KEY`] entry for the channel `channel_name`.
pub fn logout_marker_key(channel_name: &str) -> String {
    let mut key = String::from(LOGOUT_MARKER_KEY);
    key.push_str(channel_name);
    key
}

/// The name of the channel and of the lock: one per realm (its token endpoint names the server
/// and the realm) and client.
pub fn channel_name(token_endpoint: &str, client_id: &str) -> String {
    let mut name = String::from("keycloak-wasm ");
    name.push_str(token_endpoint);
    name.push(' ');
    name.push_str(client_id);
    name
}

/// The message a tab sends after a refresh: its new tokens, as JSON.
pub fn share_message(token: &str, refresh_token: &str, id_token: Option<&str>) -> String {
    let mut out = String::from("{\"token\":");
    write_string(token, &mut out);
    out.push_str(",\"refreshToken\":");
    write_string(refresh_token, &mut out);
    if let Some(id_token) = id_token {
        out.push_str(",\"idToken\":");
        write_string(id_token, &mut out);
    }
    out.push('}');
    out
}

/// The message a tab sends when it logs out of the session `session_id`.
pub fn logout_message(session_id: &str) -> String {
    let mut out = String::from("{\"logout\":");
    write_string(session_id, &mut out);
    out.push('}');
    out
}

/// Tokens another tab refreshed.
#[derive(Debug, PartialEq, Eq)]
pub struct SharedTokens {
    pub token: String,
    pub refresh_token: String,
    pub id_token: Option<String>,
}

/// What another tab said.
#[derive(Debug, PartialEq, Eq)]
pub enum TabMessage {
    /// A [`share_message`].
    Tokens(SharedTokens),
    /// A [`logout_message`]: the session id.
    Logout(String),
}

/// Reads a [`share_message`] or a [`logout_message`]; None for anything else.
pub fn parse_message(text: &str) -> Option<TabMessage> {
    let value = parse(text).ok()?;
    let text_of = |name| {
        value
            .get_str(name)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(session_id) = text_of("logout") {
        return Some(TabMessage::Logout(session_id));
    }
    Some(TabMessage::Tokens(SharedTokens {
        token: text_of("token")?,
        refresh_token: text_of("refreshToken")?,
        id_token: match value.get("idToken") {
            None => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return None,
        },
    }))
}

/// Whether a logout message about `session_id` makes this tab check its session: it is logged
/// in to that session and holds a refresh token to ask the server with (a refresh fails once
/// the session has ended). Without one the message is ignored; the session iframe, when on,
/// still notices the end.
pub fn should_verify_session(ours: &TokenSet, session_id: &str) -> bool {
    ours.authenticated()
        && ours.refresh_token.is_some()
        && ours.session_id.as_deref() == Some(session_id)
}

/// Whether `claim` is present in `a` and the same in `b`.
fn same_claim(a: &ParsedToken, b: &ParsedToken, claim: &str) -> bool {
    let value = a.claims().get_str(claim);
    value.is_some() && value == b.claims().get_str(claim)
}

/// Whether an ID token belongs to the access token `access` of `client_id`: same user and
/// issuer, and issued to the client.
fn id_token_fits(id_token: &ParsedToken, access: &ParsedToken, client_id: &str) -> bool {
    same_claim(id_token, access, "sub")
        && same_claim(id_token, access, "iss")
        && id_token.audiences().contains(&client_id)
}

/// Whether this tab takes the tokens another tab shared (`theirs`). They must be of this tab's
/// login: the same issuer, user, client (`azp`, which must be `client_id` when the provider
/// writes it) and session; the
/// access token still valid (by this tab's time skew); the refresh token of the same user and
/// session, another one than its own and issued no earlier; an ID token, if any, of the same
/// user and issuer, for this client.
pub fn should_adopt(ours: &TokenSet, theirs: &TokenSet, client_id: &str, now_ms: f64) -> bool {
    let (Some(own_access), Some(own_refresh)) = (&ours.token, &ours.refresh_token) else {
        return false;
    };
    let (Some(access), Some(refresh)) = (&theirs.token, &theirs.refresh_token) else {
        return false;
    };
    // A provider that writes no `azp` into its access tokens leaves nothing to compare; where
    // there is one, both must have it and it must be this client.
    let azp = access.claims().get_str("azp");
    let same_client =
        azp == own_access.claims().get_str("azp") && azp.is_none_or(|azp| azp == client_id);
    let same_login = ["iss", "sub", "sid"]
        .iter()
        .all(|claim| same_claim(own_access, access, claim))
        && same_client
        && ["sub", "sid"]
            .iter()
            .all(|claim| same_claim(access, refresh, claim));
    let valid =
        access.exp().is_some() && !is_token_expired(access.exp(), ours.time_skew, 0.0, now_ms);
    let newer = match (refresh.iat(), own_refresh.iat()) {
        (Some(theirs), Some(own)) => theirs >= own,
        _ => false,
    };
    let id_fits = theirs
        .id_token
        .as_ref()
        .is_none_or(|id| id_token_fits(id, access, client_id));
    same_login && valid && newer && id_fits && own_refresh.raw() != refresh.raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::base64;

    fn jwt(claims: &str) -> String {
        let mut token = String::from("eyJhbGciOiJub25lIn0.");
        token.push_str(&base64::encode_url(claims.as_bytes()));
        token.push_str(".sig");
        token
    }

    const CLIENT: &str = "app";
    /// Now: well before the tokens' `exp`.
    const NOW_MS: f64 = 1_000_000.0;
    const LOGIN: &str = r#""iss":"http://kc/realms/d","sub":"u1","azp":"app","#;

    /// A token set of the login [`LOGIN`] with the given session, refresh `iat` and `jti`.
    fn tokens(sid: Option<&str>, iat: Option<u32>, jti: &str) -> TokenSet {
        tokens_with(sid, iat, jti, |access| access.to_owned(), None)
    }

    /// [`tokens`] with the access token's claims rewritten by `edit`, and an ID token.
    fn tokens_with(
        sid: Option<&str>,
        iat: Option<u32>,
        jti: &str,
        edit: impl Fn(&str) -> String,
        id_token: Option<&str>,
    ) -> TokenSet {
        let sid = sid.map(|s| format!(r#""sid":"{s}","#)).unwrap_or_default();
        let iat = iat.map(|i| format!(r#""iat":{i},"#)).unwrap_or_default();
        let mut set = TokenSet::new(Some(0.0));
        let access = jwt(&edit(&format!(r#"{{{LOGIN}{sid}{iat}"exp":9999999999}}"#)));
        let refresh = jwt(&format!(
            r#"{{{LOGIN}{sid}{iat}"jti":"{jti}","typ":"Refresh"}}"#
        ));
        let id_token = id_token.map(jwt);
        set.set(Some(&access), Some(&refresh), id_token.as_deref(), None)
            .unwrap();
        set
    }

    #[test]
    fn messages_round_trip() {
        let text = share_message("a.b.c", "d.e.f", Some("g\"h"));
        assert_eq!(
            parse_message(&text),
            Some(TabMessage::Tokens(SharedTokens {
                token: "a.b.c".into(),
                refresh_token: "d.e.f".into(),
                id_token: Some("g\"h".into()),
            }))
        );
        assert_eq!(
            parse_message(&share_message("a", "b", None)),
            Some(TabMessage::Tokens(SharedTokens {
                token: "a".into(),
                refresh_token: "b".into(),
                id_token: None,
            }))
        );
        assert_eq!(
            parse_message(&logout_message("s-1")),
            Some(TabMessage::Logout("s-1".into()))
        );
    }

    #[test]
    fn a_logout_of_this_session_makes_the_tab_check_it() {
        let ours = tokens(Some("s1"), Some(100), "a");
        assert!(should_verify_session(&ours, "s1"));
        assert!(!should_verify_session(&ours, "s2"));
        assert!(
            !should_verify_session(&TokenSet::new(None), "s1"),
            "not logged in"
        );
        let mut implicit = TokenSet::new(None);
        implicit
            .set(Some(&jwt(r#"{"sid":"s1"}"#)), None, None, None)
            .unwrap();
        assert!(
            !should_verify_session(&implicit, "s1"),
            "nothing to ask the server with"
        );
    }

    #[test]
    fn other_messages_are_not_tokens() {
        for text in [
            "",
            "hello",
            "{}",
            r#"{"token":"a"}"#,
            r#"{"token":"","refreshToken":"b"}"#,
            r#"{"token":1,"refreshToken":"b"}"#,
            r#"{"token":"a","refreshToken":"b","idToken":7}"#,
            r#"{"logout":""}"#,
            r#"{"logout":7}"#,
            r#"["a","b"]"#,
        ] {
            assert_eq!(parse_message(text), None, "{text}");
        }
    }

    #[test]
    fn a_newer_refresh_of_the_same_session_is_adopted() {
        let ours = tokens(Some("s1"), Some(100), "a");
        assert!(should_adopt_now(&ours, &tokens(Some("s1"), Some(160), "b")));
        // Issued in the same second, but another token: still adopted.
        assert!(should_adopt_now(&ours, &tokens(Some("s1"), Some(100), "b")));
    }

    #[test]
    fn other_sessions_older_tokens_and_logged_out_tabs_keep_their_own() {
        let ours = tokens(Some("s1"), Some(100), "a");
        assert!(!should_adopt_now(
            &ours,
            &tokens(Some("s2"), Some(160), "b")
        ));
        assert!(!should_adopt_now(&ours, &tokens(None, Some(160), "b")));
        assert!(!should_adopt_now(&ours, &tokens(Some("s1"), Some(99), "b")));
        assert!(!should_adopt_now(&ours, &tokens(Some("s1"), None, "b")));
        assert!(
            !should_adopt_now(&ours, &tokens(Some("s1"), Some(100), "a")),
            "its own token"
        );
        assert!(
            !should_adopt_now(&TokenSet::new(None), &tokens(Some("s1"), Some(160), "b")),
            "not logged in"
        );
        assert!(
            !should_adopt_now(&ours, &TokenSet::new(None)),
            "nothing shared"
        );
    }

    fn should_adopt_now(ours: &TokenSet, theirs: &TokenSet) -> bool {
        should_adopt(ours, theirs, CLIENT, NOW_MS)
    }

    #[test]
    fn tokens_of_another_login_are_not_adopted() {
        let ours = tokens(Some("s1"), Some(100), "a");
        let newer =
            |edit: &dyn Fn(&str) -> String| tokens_with(Some("s1"), Some(160), "b", edit, None);
        assert!(should_adopt_now(&ours, &newer(&|c| c.to_owned())));
        for (what, from, to) in [
            ("another user", r#""sub":"u1""#, r#""sub":"u2""#),
            ("no user", r#""sub":"u1","#, ""),
            (
                "another issuer",
                "http://kc/realms/d",
                "http://evil/realms/d",
            ),
            ("another client", r#""azp":"app""#, r#""azp":"other""#),
            ("expired", r#""exp":9999999999"#, r#""exp":999"#),
            ("no expiry", r#","exp":9999999999"#, ""),
        ] {
            let theirs = newer(&|c| c.replace(from, to));
            assert!(!should_adopt_now(&ours, &theirs), "{what}");
        }
        // A provider without `azp` in its access tokens: both lack it, the rest decides.
        let no_azp =
            |sid, iat, jti| tokens_with(sid, iat, jti, |c| c.replace(r#""azp":"app","#, ""), None);
        let ours_without = no_azp(Some("s1"), Some(100), "a");
        assert!(should_adopt_now(
            &ours_without,
            &no_azp(Some("s1"), Some(160), "b")
        ));
        assert!(!should_adopt_now(&ours_without, &newer(&|c| c.to_owned())));
        assert!(!should_adopt_now(
            &ours,
            &no_azp(Some("s1"), Some(160), "b")
        ));
        // Our own login is of another client than the one configured: nothing is adopted.
        assert!(!should_adopt(
            &ours,
            &newer(&|c| c.to_owned()),
            "other",
            NOW_MS
        ));
        // Without a known time skew, expiry cannot be told: nothing is adopted.
        let mut unknown_skew = ours.clone();
        unknown_skew.assign_time_skew(None);
        assert!(!should_adopt(
            &unknown_skew,
            &newer(&|c| c.to_owned()),
            CLIENT,
            NOW_MS
        ));
    }

    #[test]
    fn a_shared_id_token_must_fit_the_login() {
        let ours = tokens(Some("s1"), Some(100), "a");
        let with_id =
            |id: &str| tokens_with(Some("s1"), Some(160), "b", |c| c.to_owned(), Some(id));
        let fits = r#"{"iss":"http://kc/realms/d","sub":"u1","aud":"app"}"#;
        assert!(should_adopt_now(&ours, &with_id(fits)));
        assert!(should_adopt_now(
            &ours,
            &with_id(r#"{"iss":"http://kc/realms/d","sub":"u1","aud":["x","app"]}"#)
        ));
        for id in [
            r#"{"iss":"http://kc/realms/d","sub":"u2","aud":"app"}"#,
            r#"{"iss":"http://evil","sub":"u1","aud":"app"}"#,
            r#"{"iss":"http://kc/realms/d","sub":"u1","aud":"other"}"#,
            r#"{"iss":"http://kc/realms/d","sub":"u1"}"#,
        ] {
            assert!(!should_adopt_now(&ours, &with_id(id)), "{id}");
        }
    }

    #[test]
    fn the_name_names_server_and_client() {
        assert_eq!(
            channel_name("http://kc/realms/d/protocol/openid-connect/token", "app"),
            "keycloak-wasm http://kc/realms/d/protocol/openid-connect/token app"
        );
        assert_eq!(logout_marker_key("n"), "kc-logout n");
    }
}
