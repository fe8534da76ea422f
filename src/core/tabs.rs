//! Tokens shared between the tabs of one origin. With refresh-token rotation
//! (`revokeRefreshToken`), a refresh in one tab makes the refresh tokens of the others stale, and
//! their next refresh logs them out. So a tab that refreshed tells the others (over a
//! `BroadcastChannel`) and they take its tokens; refreshes are also taken one at a time across
//! tabs (a Web Lock), so that two tabs never spend refresh tokens of one session at once.

use crate::prelude::*;

use super::json::{parse, write_string, Value};
use super::token::TokenSet;

/// After waiting for another tab's refresh, how long to wait for the tokens it shares before
/// refreshing anyway (its refresh may have failed). The tokens usually arrive within
/// milliseconds; the lock and the channel are not ordered with each other.
pub const SHARED_TOKENS_WAIT_MS: f64 = 1000.0;

/// The name of the channel and of the lock: one per server endpoint and client.
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

/// Whether another tab's logout of `session_id` ends this tab's login.
pub fn ends_session(ours: &TokenSet, session_id: &str) -> bool {
    ours.authenticated() && ours.session_id.as_deref() == Some(session_id)
}

/// Whether this tab takes the tokens another tab shared (`theirs`): it is logged in to the
/// same session, and the shared refresh token is another one, issued no earlier than its own.
pub fn should_adopt(ours: &TokenSet, theirs: &TokenSet) -> bool {
    let (Some(own_access), Some(own_refresh)) = (&ours.token, &ours.refresh_token) else {
        return false;
    };
    let (Some(access), Some(refresh)) = (&theirs.token, &theirs.refresh_token) else {
        return false;
    };
    let same_session = own_access.sid().is_some() && own_access.sid() == access.sid();
    let newer = match (refresh.iat(), own_refresh.iat()) {
        (Some(theirs), Some(own)) => theirs >= own,
        _ => false,
    };
    same_session && newer && own_refresh.raw() != refresh.raw()
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

    fn tokens(sid: Option<&str>, iat: Option<u32>, jti: &str) -> TokenSet {
        let sid = sid.map(|s| format!(r#""sid":"{s}","#)).unwrap_or_default();
        let iat = iat.map(|i| format!(r#""iat":{i},"#)).unwrap_or_default();
        let mut set = TokenSet::new(None);
        let access = jwt(&format!(r#"{{{sid}{iat}"exp":9999999999}}"#));
        let refresh = jwt(&format!(r#"{{{sid}{iat}"jti":"{jti}","typ":"Refresh"}}"#));
        set.set(Some(&access), Some(&refresh), None, None).unwrap();
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
    fn a_logout_of_this_session_ends_it() {
        let ours = tokens(Some("s1"), Some(100), "a");
        assert!(ends_session(&ours, "s1"));
        assert!(!ends_session(&ours, "s2"));
        assert!(!ends_session(&TokenSet::new(None), "s1"), "not logged in");
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
        assert!(should_adopt(&ours, &tokens(Some("s1"), Some(160), "b")));
        // Issued in the same second, but another token: still adopted.
        assert!(should_adopt(&ours, &tokens(Some("s1"), Some(100), "b")));
    }

    #[test]
    fn other_sessions_older_tokens_and_logged_out_tabs_keep_their_own() {
        let ours = tokens(Some("s1"), Some(100), "a");
        assert!(!should_adopt(&ours, &tokens(Some("s2"), Some(160), "b")));
        assert!(!should_adopt(&ours, &tokens(None, Some(160), "b")));
        assert!(!should_adopt(&ours, &tokens(Some("s1"), Some(99), "b")));
        assert!(!should_adopt(&ours, &tokens(Some("s1"), None, "b")));
        assert!(
            !should_adopt(&ours, &tokens(Some("s1"), Some(100), "a")),
            "its own token"
        );
        assert!(
            !should_adopt(&TokenSet::new(None), &tokens(Some("s1"), Some(160), "b")),
            "not logged in"
        );
        assert!(!should_adopt(&ours, &TokenSet::new(None)), "nothing shared");
    }

    #[test]
    fn the_name_names_server_and_client() {
        assert_eq!(
            channel_name("http://kc/realms/d/protocol/openid-connect/token", "app"),
            "keycloak-wasm http://kc/realms/d/protocol/openid-connect/token app"
        );
    }
}
