//! The HTML pages: login, registration, required actions, logout, errors, and the two iframe
//! pages keycloak-js embeds. Element ids follow Keycloak's login theme so that scripts and tests
//! written against Keycloak work here.

use crate::util::html_escape as e;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f0f0f0;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-top:4px solid #0066cc}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}\
input[type=text],input[type=password],input[type=email]{width:100%;padding:.5rem;box-sizing:border-box}\
input[type=submit],button{margin-top:1.2rem;padding:.6rem 1.2rem;background:#0066cc;color:#fff;border:0}\
.kc-feedback-text,#input-error{color:#c9190b;display:block;margin-top:.5rem}\
.realm{color:#666;text-transform:uppercase;font-size:.8rem;letter-spacing:.1em}";

fn page(lang: &str, title: &str, realm_title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"robots\" content=\"noindex, nofollow\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head>\
<body id=\"keycloak-bg\"><main><div id=\"kc-header\" class=\"realm\">{realm_title}</div>{body}</main></body></html>",
        lang = e(lang),
        title = e(title),
        realm_title = e(realm_title),
    )
}

pub struct LoginPage<'a> {
    pub lang: &'a str,
    pub realm_title: &'a str,
    pub action: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub registration_url: Option<&'a str>,
}

pub fn login(p: &LoginPage<'_>) -> String {
    let error = p
        .error
        .map(|msg| format!("<span id=\"input-error\" class=\"kc-feedback-text\" aria-live=\"polite\">{}</span>", e(msg)))
        .unwrap_or_default();
    let register = p
        .registration_url
        .map(|url| {
            format!(
                "<div id=\"kc-registration\"><span>New user? <a tabindex=\"6\" href=\"{}\">Register</a></span></div>",
                e(url)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1 id=\"kc-page-title\">Sign in to your account</h1>\
<form id=\"kc-form-login\" action=\"{action}\" method=\"post\" onsubmit=\"login.disabled = true; return true;\">\
<label for=\"username\">Username or email</label>\
<input tabindex=\"1\" id=\"username\" name=\"username\" value=\"{username}\" type=\"text\" autofocus autocomplete=\"username\" aria-invalid=\"{invalid}\">\
<label for=\"password\">Password</label>\
<input tabindex=\"2\" id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" aria-invalid=\"{invalid}\">\
{error}\
<input type=\"hidden\" id=\"id-hidden-input\" name=\"credentialId\">\
<input tabindex=\"4\" name=\"login\" id=\"kc-login\" type=\"submit\" value=\"Sign In\">\
</form>{register}",
        action = e(p.action),
        username = e(p.username),
        invalid = p.error.is_some(),
    );
    page(p.lang, "Sign in to your account", p.realm_title, &body)
}

pub struct RegisterPage<'a> {
    pub lang: &'a str,
    pub realm_title: &'a str,
    pub action: &'a str,
    pub login_url: &'a str,
    pub values: [&'a str; 4],
    pub error: Option<&'a str>,
}

pub fn register(p: &RegisterPage<'_>) -> String {
    let [first, last, email, username] = p.values;
    let error = p
        .error
        .map(|msg| {
            format!(
                "<span id=\"input-error\" class=\"kc-feedback-text\">{}</span>",
                e(msg)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1 id=\"kc-page-title\">Register</h1>\
<form id=\"kc-register-form\" action=\"{action}\" method=\"post\">\
<label for=\"firstName\">First name</label><input type=\"text\" id=\"firstName\" name=\"firstName\" value=\"{first}\">\
<label for=\"lastName\">Last name</label><input type=\"text\" id=\"lastName\" name=\"lastName\" value=\"{last}\">\
<label for=\"email\">Email</label><input type=\"text\" id=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"email\">\
<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\">\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\">\
<label for=\"password-confirm\">Confirm password</label><input type=\"password\" id=\"password-confirm\" name=\"password-confirm\">\
{error}\
<div id=\"kc-form-options\"><span><a href=\"{login}\">&laquo; Back to Login</a></span></div>\
<input id=\"kc-register\" type=\"submit\" value=\"Register\">\
</form>",
        action = e(p.action),
        login = e(p.login_url),
        first = e(first),
        last = e(last),
        email = e(email),
        username = e(username),
    );
    page(p.lang, "Register", p.realm_title, &body)
}

/// A required action requested with `kc_action` (UPDATE_PROFILE, UPDATE_PASSWORD, ...): one
/// form that completes or cancels it.
pub fn required_action(
    lang: &str,
    realm_title: &str,
    action_name: &str,
    form_action: &str,
) -> String {
    let body = format!(
        "<h1 id=\"kc-page-title\">{title}</h1>\
<form id=\"kc-required-action-form\" action=\"{form_action}\" method=\"post\">\
<p>devserver completes the required action <code>{name}</code> without asking anything.</p>\
<input id=\"kc-submit\" name=\"submit-action\" type=\"submit\" value=\"Submit\">\
<button id=\"cancel-aia\" name=\"cancel-aia\" value=\"true\" type=\"submit\">Cancel</button>\
</form>",
        title = e(&action_title(action_name)),
        name = e(action_name),
        form_action = e(form_action),
    );
    page(lang, &action_title(action_name), realm_title, &body)
}

fn action_title(action: &str) -> String {
    match action {
        "UPDATE_PASSWORD" => "Update password".into(),
        "UPDATE_PROFILE" => "Update Account Information".into(),
        "CONFIGURE_TOTP" => "Mobile Authenticator Setup".into(),
        "VERIFY_EMAIL" => "Email verification".into(),
        "TERMS_AND_CONDITIONS" => "Terms and Conditions".into(),
        "delete_account" => "Delete Account".into(),
        other => other.to_string(),
    }
}

pub fn error(realm_title: &str, message: &str) -> String {
    let body = format!(
        "<h1 id=\"kc-page-title\">We are sorry...</h1><p id=\"kc-error-message\" class=\"instruction\">{}</p>",
        e(message)
    );
    page("en", "We are sorry...", realm_title, &body)
}

pub fn logout_confirm(realm_title: &str, form_action: &str, session_code: &str) -> String {
    let body = format!(
        "<h1 id=\"kc-page-title\">Logging out</h1><p class=\"instruction\">Do you want to log out?</p>\
<form class=\"form-actions\" action=\"{action}\" method=\"POST\">\
<input type=\"hidden\" name=\"session_code\" value=\"{code}\">\
<input tabindex=\"4\" name=\"confirmLogout\" id=\"kc-logout\" type=\"submit\" value=\"Logout\">\
</form>",
        action = e(form_action),
        code = e(session_code),
    );
    page("en", "Logging out", realm_title, &body)
}

/// Keycloak's info page: a single message.
pub fn info(realm_title: &str, message: &str) -> String {
    let body = format!("<h1 id=\"kc-page-title\">{}</h1>", e(message));
    page("en", message, realm_title, &body)
}

pub fn logged_out(realm_title: &str) -> String {
    info(realm_title, "You are logged out")
}

/// `response_mode=form_post`: a self-submitting form to the redirect URI.
pub fn form_post(redirect_uri: &str, params: &[(&str, String)]) -> String {
    let inputs: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                e(k),
                e(v)
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><head><title>Submit This Form</title></head>\
<body onload=\"javascript:document.forms[0].submit()\">\
<noscript><p>JavaScript is disabled: press Continue.</p></noscript>\
<form method=\"post\" action=\"{}\">{inputs}<noscript><input type=\"submit\" value=\"Continue\"></noscript></form></body></html>",
        e(redirect_uri)
    )
}

pub fn account(
    realm_title: &str,
    username: Option<&str>,
    referrer: Option<(&str, &str)>,
) -> String {
    let who = username
        .map(|u| {
            format!(
                "<p>Signed in as <strong id=\"username\">{}</strong>.</p>",
                e(u)
            )
        })
        .unwrap_or_else(|| "<p>Not signed in.</p>".into());
    let back = referrer
        .map(|(name, uri)| {
            format!(
                "<p><a id=\"referrer\" href=\"{}\">Back to {}</a></p>",
                e(uri),
                e(name)
            )
        })
        .unwrap_or_default();
    page(
        "en",
        "Account Management",
        realm_title,
        &format!("<h1 id=\"kc-page-title\">Account Management</h1>{who}{back}"),
    )
}

/// The session-status iframe (OpenID Connect Session Management). keycloak-js posts
/// `"<clientId> <sessionId>"`; the page asks the server once whether the client may use it from
/// that origin (`init`), then answers `unchanged`, `changed` or `error` by comparing the
/// base64url SHA-256 of the session id with the `KEYCLOAK_SESSION` cookie.
pub const LOGIN_STATUS_IFRAME: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>login status</title></head>
<body>
<script type="module">
  let verified = null;
  let initRequested = false;

  window.addEventListener("message", async (event) => {
    if (typeof event.data !== "string") return;
    const parts = event.data.split(" ");
    if (parts.length !== 2) return;
    const [clientId, sessionState] = parts;
    const status = await sessionStatus(clientId, event.origin, sessionState);
    event.source.postMessage(status, event.origin);
  });

  async function sessionStatus(clientId, origin, sessionState) {
    if (!(await storageAccess())) return "error";
    if (!verified) {
      // One server check per iframe: a page cannot make us probe the server repeatedly.
      if (initRequested) return "error";
      initRequested = true;
      const url = new URL(location.origin + location.pathname + "/init");
      url.searchParams.set("client_id", clientId);
      url.searchParams.set("origin", origin);
      let response;
      // Never from the HTTP cache: two frames asking at once would otherwise wait on each other.
      try { response = await fetch(url, { cache: "no-store" }); } catch { return "error"; }
      if (!response.ok) return "error";
      verified = { clientId, origin };
    }
    const cookie = readCookie("KEYCLOAK_SESSION");
    if (!cookie) return sessionState === "" ? "unchanged" : "changed";
    if (clientId !== verified.clientId || origin !== verified.origin) return "error";
    return (await digest(sessionState)) === cookie ? "unchanged" : "changed";
  }

  async function storageAccess() {
    if (!("hasStorageAccess" in document)) return true;
    if (await document.hasStorageAccess()) return true;
    try { await document.requestStorageAccess(); return true; } catch { return false; }
  }

  function readCookie(name) {
    for (const entry of document.cookie.split(";")) {
      const at = entry.indexOf("=");
      if (at < 0) continue;
      if (entry.slice(0, at).trim() !== name) continue;
      const value = entry.slice(at + 1).trim();
      return value.length > 1 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
    return null;
  }

  async function digest(text) {
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
    let binary = "";
    for (const byte of hash) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
</script>
</body></html>
"#;

/// Third-party cookie check, step 1: with storage access, place two test cookies and continue
/// to step 2; without, report `unsupported` to the embedding page.
pub const THIRD_PARTY_COOKIES_STEP1: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>3p cookies step 1</title></head>
<body>
<script type="module">
  async function storageAccess() {
    if (!("hasStorageAccess" in document)) return true;
    if (await document.hasStorageAccess()) return true;
    try { await document.requestStorageAccess(); return true; } catch { return false; }
  }
  if (await storageAccess()) {
    document.cookie = "KEYCLOAK_3P_COOKIE_SAMESITE=supported; Max-Age=60; SameSite=None; Secure";
    document.cookie = "KEYCLOAK_3P_COOKIE=supported; Max-Age=60";
    window.location = "step2.html";
  } else {
    window.parent.postMessage("unsupported", "*");
  }
</script>
</body></html>
"#;

/// Third-party cookie check, step 2: the cookies survived the navigation if third-party cookies
/// work; clear them and report.
pub const THIRD_PARTY_COOKIES_STEP2: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>3p cookies step 2</title></head>
<body>
<script type="module">
  const supported = document.cookie.includes("KEYCLOAK_3P_COOKIE");
  if (supported) {
    document.cookie = "KEYCLOAK_3P_COOKIE_SAMESITE=; Max-Age=0; SameSite=None; Secure";
    document.cookie = "KEYCLOAK_3P_COOKIE=; Max-Age=0";
  }
  window.parent.postMessage(supported ? "supported" : "unsupported", "*");
</script>
</body></html>
"#;
