//! Keycloak's redirect URI rule (its RedirectUtils): a URI is accepted when it equals a
//! registered pattern, starts with a pattern ending in `*`, or the pattern is `*` alone; with the
//! guards Keycloak puts around wildcards. A URI that is not a valid URI is refused; one with user
//! info or a `..` path segment (also percent-encoded or behind a backslash) matches patterns
//! exactly only; and a scheme other than http(s) needs a pattern that names it, so `*` never
//! lets `javascript:` or `data:` through.

/// Whether `redirect` is allowed by one of `patterns` (relative patterns already resolved).
pub fn is_allowed(patterns: &[String], redirect: &str) -> bool {
    if !is_valid_uri(redirect) {
        return false;
    }
    let wildcards = wildcards_allowed(redirect);
    patterns
        .iter()
        .any(|pattern| matches(pattern, redirect, wildcards) && scheme_allowed(pattern, redirect))
}

fn matches(pattern: &str, redirect: &str, wildcards: bool) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some(prefix) = pattern.strip_suffix('*').filter(|_| wildcards) else {
        return pattern == redirect;
    };
    if pattern.contains('?') {
        return pattern == redirect;
    }
    // Query and fragment are not compared under a wildcard.
    let end = redirect
        .find('?')
        .or_else(|| redirect.find('#'))
        .unwrap_or(redirect.len());
    let compared = redirect.get(..end).unwrap_or(redirect);
    if compared.starts_with(prefix) {
        return true;
    }
    // `https://app/path/*` also accepts `https://app/path`.
    let trimmed = match prefix.strip_suffix('/') {
        Some(shorter) if !shorter.is_empty() => shorter,
        _ => prefix,
    };
    trimmed == compared
}

/// http and https are always fine; any other scheme only when the pattern starts with it.
fn scheme_allowed(pattern: &str, redirect: &str) -> bool {
    match scheme(redirect) {
        None => true,
        Some(scheme) => {
            scheme.eq_ignore_ascii_case("http")
                || scheme.eq_ignore_ascii_case("https")
                || pattern
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.starts_with(':'))
        }
    }
}

/// The URI's scheme, if it has one (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(scheme)
}

/// Characters and escapes a URI may hold (what `java.net.URI` accepts): no spaces, controls,
/// backslashes or other excluded ASCII, and `%` only before two hex digits.
fn is_valid_uri(uri: &str) -> bool {
    let bytes = uri.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(at, byte)| {
        *byte != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    let chars_ok = !uri.chars().any(|c| {
        c.is_control()
            || c.is_whitespace()
            || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
    });
    escapes_ok && chars_ok && uri.matches('#').count() <= 1
}

/// Wildcards apply only to URIs without user info whose path has no `..` segment.
fn wildcards_allowed(uri: &str) -> bool {
    let (authority, path) = authority_and_path(uri);
    !authority.contains('@') && !climbs_up(path)
}

/// The authority (empty when there is none) and the raw path of a URI.
fn authority_and_path(uri: &str) -> (&str, &str) {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let before_query = uri.get(..end).unwrap_or(uri);
    let rest = match scheme(before_query) {
        Some(scheme) => before_query.get(scheme.len() + 1..).unwrap_or_default(),
        None => before_query,
    };
    match rest.strip_prefix("//") {
        Some(hierarchical) => {
            let path_at = hierarchical.find('/').unwrap_or(hierarchical.len());
            hierarchical.split_at(path_at)
        }
        // An opaque URI (`mailto:x`) has no path to climb.
        None if scheme(before_query).is_some() && !rest.starts_with('/') => ("", ""),
        None => ("", rest),
    }
}

/// Whether a path has a `..` segment after a separator, the separators and dots also
/// percent-encoded or as backslashes.
fn climbs_up(path: &str) -> bool {
    let decoded = path
        .to_ascii_lowercase()
        .replace("%2f", "/")
        .replace("%5c", "/")
        .replace('\\', "/")
        .replace("%2e", ".");
    decoded.split('/').skip(1).any(|segment| segment == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(pattern: &str, redirect: &str) -> bool {
        is_allowed(&[pattern.to_string()], redirect)
    }

    #[test]
    fn wildcards_match_prefixes_and_the_bare_path() {
        let pattern = "http://localhost:3000/app/*";
        assert!(allowed(pattern, "http://localhost:3000/app/"));
        assert!(allowed(pattern, "http://localhost:3000/app"));
        assert!(allowed(pattern, "http://localhost:3000/app/a/b?x=1#f"));
        assert!(allowed(pattern, "http://localhost:3000/app/..x/y"));
        assert!(!allowed(pattern, "http://localhost:3000/apple"));
        assert!(!allowed(pattern, "http://localhost:3000/"));
    }

    #[test]
    fn dot_segments_and_user_info_disable_wildcards() {
        let pattern = "http://localhost:3000/app/*";
        for climbing in [
            "http://localhost:3000/app/../admin",
            "http://localhost:3000/app/..",
            "http://localhost:3000/app/%2E%2e/admin",
            "http://localhost:3000/app/..%2fadmin",
            "http://localhost:3000/app/x%5C..%5Cadmin",
        ] {
            assert!(!allowed(pattern, climbing), "{climbing}");
        }
        assert!(!allowed(
            "http://localhost:3000*",
            "http://localhost:3000@evil.example/"
        ));
        // An exact pattern still matches itself.
        let exact = "http://localhost:3000/a/../b";
        assert!(allowed(exact, exact));
    }

    #[test]
    fn invalid_uris_are_refused() {
        for bad in [
            "http://localhost:3000/app/a b",
            "http://localhost:3000/app\\..\\admin",
            "http://localhost:3000/app/%zz",
            "http://localhost:3000/app/%2",
            "http://localhost:3000/app/#a#b",
            "http://localhost:3000/app/\n",
        ] {
            assert!(!allowed("*", bad), "{bad:?}");
        }
    }

    #[test]
    fn the_catch_all_accepts_web_and_relative_uris_only() {
        assert!(allowed("*", "https://anything.example/cb"));
        assert!(allowed("*", "/relative/path"));
        for script in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "file:///etc/passwd",
        ] {
            assert!(!allowed("*", script), "{script}");
        }
    }

    #[test]
    fn custom_schemes_need_a_pattern_that_names_them() {
        assert!(allowed(
            "com.example.app:/cb*",
            "com.example.app:/cb?code=1"
        ));
        assert!(allowed("com.example.app:/cb", "com.example.app:/cb"));
        assert!(!allowed("*", "com.example.app:/cb"));
    }

    #[test]
    fn patterns_with_a_query_match_exactly() {
        assert!(allowed(
            "http://a.example/cb?x=*",
            "http://a.example/cb?x=*"
        ));
        assert!(!allowed(
            "http://a.example/cb?x=*",
            "http://a.example/cb?x=1"
        ));
    }
}
