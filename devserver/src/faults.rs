//! Fault injection for tests: rules that delay, fail or hang the next requests to an endpoint.

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The endpoints a rule can target.
pub const TARGETS: [&str; 13] = [
    "token",
    "auth",
    "certs",
    "userinfo",
    "logout",
    "revoke",
    "introspect",
    "account",
    "well-known",
    "login-status-iframe",
    "login-status-iframe-init",
    "3p-cookies-step1",
    "3p-cookies-step2",
];

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Assigned by the server.
    #[serde(default)]
    pub id: String,
    pub target: String,
    /// Only requests to this realm (default: any realm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Only token requests with this grant_type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// How many requests the rule applies to (default 1); `null` with `"forever": true` never runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default)]
    pub forever: bool,
    /// Wait this long before answering (or before failing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Answer with this HTTP status instead of the real response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The OAuth `error` of the failure body (JSON endpoints); default by status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Never answer (the connection stays open until the client gives up, or until
    /// `POST /admin/devserver/faults/release` lets the request go on).
    #[serde(default)]
    pub hang: bool,
}

impl FaultRule {
    pub fn validate(&self) -> Result<(), String> {
        if !TARGETS.contains(&self.target.as_str()) {
            return Err(format!(
                "unknown target '{}'; one of: {}",
                self.target,
                TARGETS.join(", ")
            ));
        }
        if self.grant_type.is_some() && self.target != "token" {
            return Err("grantType applies only to the token target".into());
        }
        if let Some(status) = self.status {
            if StatusCode::from_u16(status).is_err() || status < 100 {
                return Err(format!("status {status} is not an HTTP status"));
            }
        }
        if !self.hang && self.status.is_none() && self.delay_ms.is_none() {
            return Err("a rule needs at least one of delayMs, status, hang".into());
        }
        if self.count == Some(0) {
            return Err("count must be at least 1".into());
        }
        Ok(())
    }
}

/// What a matching rule asks the handler to do.
#[derive(Debug)]
pub struct FaultAction {
    rule: FaultRule,
    /// Changes when hung requests are released.
    release: tokio::sync::watch::Receiver<u64>,
}

impl FaultAction {
    /// Delays, hangs, or produces the failure response; `None` lets the real handler answer.
    pub async fn perform(mut self, json_body: bool) -> Option<Response> {
        if let Some(ms) = self.rule.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if self.rule.hang && self.release.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        let status = StatusCode::from_u16(self.rule.status?).ok()?;
        let error = self.rule.error.clone().unwrap_or_else(|| {
            match status.as_u16() {
                400 => "invalid_request",
                401 => "invalid_client",
                403 => "access_denied",
                503 => "temporarily_unavailable",
                _ => "server_error",
            }
            .to_string()
        });
        let description = self
            .rule
            .error_description
            .clone()
            .unwrap_or_else(|| format!("injected by devserver fault rule {}", self.rule.id));
        if json_body {
            Some(
                (
                    status,
                    axum::Json(json!({ "error": error, "error_description": description })),
                )
                    .into_response(),
            )
        } else {
            Some((status, format!("{error}: {description}")).into_response())
        }
    }
}

pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    /// A release counter: hung requests wait for it to change.
    release: tokio::sync::watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            rules: Mutex::default(),
            release: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Faults {
    pub fn add(&self, mut rule: FaultRule) -> Result<FaultRule, String> {
        rule.validate()?;
        rule.id = crate::util::uuid();
        if rule.count.is_none() && !rule.forever {
            rule.count = Some(1);
        }
        if let Ok(mut rules) = self.rules.lock() {
            rules.push(rule.clone());
        }
        Ok(rule)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn remove(&self, id: &str) -> bool {
        self.rules
            .lock()
            .map(|mut rules| {
                let before = rules.len();
                rules.retain(|r| r.id != id);
                rules.len() != before
            })
            .unwrap_or(false)
    }

    /// Lets every request hung so far go on, to the rule's status or the real answer.
    pub fn release(&self) {
        self.release.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn clear(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.clear();
        }
    }

    /// Applies the first rule matching an API request (token, userinfo, ...): waits or hangs as
    /// it says, and gives the JSON error to answer instead of the real one, if it has one.
    pub async fn inject_api(
        &self,
        target: &str,
        realm: &str,
        grant_type: Option<&str>,
    ) -> Option<Response> {
        self.take(target, realm, grant_type)?.perform(true).await
    }

    /// Like [`Faults::inject_api`] for a page (authorization, logout, the iframes): a text error.
    pub async fn inject_page(&self, target: &str, realm: &str) -> Option<Response> {
        self.take(target, realm, None)?.perform(false).await
    }

    /// Consumes one use of the first rule matching this request.
    pub fn take(&self, target: &str, realm: &str, grant_type: Option<&str>) -> Option<FaultAction> {
        let mut rules = self.rules.lock().ok()?;
        let index = rules.iter().position(|rule| {
            rule.target == target
                && rule.realm.as_deref().is_none_or(|r| r == realm)
                && rule
                    .grant_type
                    .as_deref()
                    .is_none_or(|g| Some(g) == grant_type)
        })?;
        let rule = rules.get_mut(index)?;
        let action = FaultAction {
            rule: rule.clone(),
            release: self.release.subscribe(),
        };
        if let Some(count) = rule.count.as_mut() {
            *count -= 1;
            if *count == 0 {
                rules.remove(index);
            }
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> FaultRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rules_run_out_after_count() {
        let faults = Faults::default();
        faults
            .add(rule(r#"{"target":"token","count":2,"status":503}"#))
            .unwrap();
        assert!(faults.take("token", "demo", None).is_some());
        assert!(faults.take("certs", "demo", None).is_none());
        assert!(faults
            .take("token", "demo", Some("refresh_token"))
            .is_some());
        assert!(faults.take("token", "demo", None).is_none());
    }

    #[test]
    fn filters_by_realm_and_grant_type() {
        let faults = Faults::default();
        faults
            .add(rule(
                r#"{"target":"token","realm":"demo","grantType":"refresh_token","status":500}"#,
            ))
            .unwrap();
        assert!(faults
            .take("token", "other", Some("refresh_token"))
            .is_none());
        assert!(faults
            .take("token", "demo", Some("authorization_code"))
            .is_none());
        assert!(faults
            .take("token", "demo", Some("refresh_token"))
            .is_some());
    }

    #[test]
    fn invalid_rules_are_refused_with_a_reason() {
        let faults = Faults::default();
        let err = faults
            .add(rule(r#"{"target":"nope","status":500}"#))
            .unwrap_err();
        assert!(err.starts_with("unknown target 'nope'"), "{err}");
        let err = faults.add(rule(r#"{"target":"token"}"#)).unwrap_err();
        assert!(err.contains("at least one of"), "{err}");
        assert!(serde_json::from_str::<FaultRule>(r#"{"target":"token","stauts":1}"#).is_err());
    }

    #[tokio::test]
    async fn status_rules_answer_with_oauth_json() {
        let faults = Faults::default();
        faults
            .add(rule(r#"{"target":"token","status":503}"#))
            .unwrap();
        let response = faults
            .take("token", "demo", None)
            .unwrap()
            .perform(true)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
