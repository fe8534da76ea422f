//! The adapter's configuration: the realm URL and the endpoints derived from it.

use super::error::{Error, ErrorCode};

/// A Keycloak realm: where its endpoints live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    /// The server URL without a trailing slash, e.g. `https://sso.example.com`.
    pub auth_server_url: String,
    pub realm: String,
    pub client_id: String,
}

impl Realm {
    /// Validates the three required values of the `{ url, realm, clientId }` form.
    pub fn new(url: &str, realm: &str, client_id: &str) -> Result<Self, Error> {
        for (name, value) in [("url", url), ("realm", realm), ("clientId", client_id)] {
            if value.is_empty() {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!("The configuration object is missing the required '{name}' property."),
                ));
            }
        }
        Ok(Realm {
            auth_server_url: url.trim_end_matches('/').to_owned(),
            realm: realm.to_owned(),
            client_id: client_id.to_owned(),
        })
    }

    /// `${url}/realms/${encodeURIComponent(realm)}`.
    pub fn realm_url(&self) -> String {
        format!(
            "{}/realms/{}",
            self.auth_server_url,
            encode_uri_component(&self.realm)
        )
    }

    /// The OpenID Connect authorization endpoint.
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/protocol/openid-connect/auth", self.realm_url())
    }
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is
/// percent-encoded as UTF-8.
pub fn encode_uri_component(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(char::from(byte)),
            _ => {
                out.push('%');
                out.push(hex_digit(byte >> 4));
                out.push(hex_digit(byte & 0x0f));
            }
        }
    }
    out
}

/// An upper-case hexadecimal digit for a nibble (values above 15 cannot occur).
fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).map_or('0', |c| c.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_url_strips_trailing_slash_and_encodes_realm() {
        let realm = Realm::new("https://sso.example.com/", "my realm", "app").unwrap();
        assert_eq!(
            realm.realm_url(),
            "https://sso.example.com/realms/my%20realm"
        );
        assert_eq!(
            realm.authorization_endpoint(),
            "https://sso.example.com/realms/my%20realm/protocol/openid-connect/auth"
        );
    }

    #[test]
    fn missing_values_name_the_property() {
        let err = Realm::new("https://sso.example.com", "demo", "").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert_eq!(
            err.message,
            "The configuration object is missing the required 'clientId' property."
        );
    }

    #[test]
    fn encode_uri_component_matches_javascript() {
        assert_eq!(
            encode_uri_component("a b/c?d=é&!~*'()"),
            "a%20b%2Fc%3Fd%3D%C3%A9%26!~*'()"
        );
    }
}
