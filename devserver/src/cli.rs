//! Command-line parsing for the binary.

use std::path::PathBuf;

use std::time::Duration;

use crate::log::{parse_level, Level};
use crate::server::ServerConfig;

pub const USAGE: &str = "\
devserver: a Keycloak-compatible development server

USAGE:
    devserver [OPTIONS]

OPTIONS:
    --port PORT              port to listen on (default 8080; 0 picks a free one)
    --host HOST              address to bind (default 127.0.0.1)
    --www DIR                the demo app served at / (default www)
    --pkg DIR                the built npm package served at /pkg (default pkg)
    --import-realm FILE      import a Keycloak realm-export JSON file (repeatable)
    --admin-user NAME        master realm admin user (default admin)
    --admin-password PASS    its password (default admin)
    --log-level LEVEL        error, warn, info or debug (default info; RUST_LOG works too);
                             debug logs one line per request
    -h, --help               print this help

LIVE-EVENT HUB (/events, /ingest):
    --hub-issuer URL         also accept access tokens of this issuer, e.g.
                             https://kc.example.com/realms/foo (repeatable)
    --hub-only               serve only /events and /ingest, in front of a real Keycloak
                             (needs --hub-issuer; no realms of devserver's own)
    --hub-audience CLIENT    tokens must name this client in azp or aud
    --hub-heartbeat SECS     server ping interval (default 25)
    --hub-auth-timeout SECS  first-message strategy: wait this long for the auth message
                             (default 10)
    --hub-jwks-min-interval SECS
                             least time between two JWKS fetches of an issuer (default 10)
    --ingest-token-file FILE a file holding the static bearer secret that /ingest accepts;
                             or the secret itself in the DEVSERVER_INGEST_TOKEN variable
    --ingest-token TOKEN     the same secret on the command line (visible in ps: for
                             development only)
    --ingest-client CLIENT   a client whose service account may push events to /ingest
                             (its client-credentials tokens; repeatable)

Once listening, devserver prints `devserver listening on http://ADDR` on stdout.
";

#[derive(Debug)]
pub enum Command {
    Run(Box<ServerConfig>, Level),
    Help,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("www", &self.www)
            .field("pkg", &self.pkg)
            .field("realm_files", &self.realm_files)
            .field("admin_user", &self.admin_user)
            .field("admin_password", &"[redacted]")
            .field("hub", &self.hub)
            .field("hub_only", &self.hub_only)
            .finish()
    }
}

fn seconds(name: &str, raw: &str, min: u64) -> Result<Duration, String> {
    match raw.parse::<u64>() {
        Ok(n) if n >= min && n <= 86_400 => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "{name}: '{raw}' is not a number of seconds ({min}-86400)"
        )),
    }
}

/// An issuer URL as tokens carry it: http(s), no trailing slash.
fn issuer(raw: &str) -> Result<String, String> {
    events_hub::config::issuer(raw).map_err(|err| format!("--hub-issuer: {err}"))
}

/// Parses the arguments (without the program name). `rust_log` is the RUST_LOG variable.
pub fn parse_args(
    args: impl IntoIterator<Item = String>,
    rust_log: Option<&str>,
) -> Result<Command, String> {
    let mut config = ServerConfig {
        www: Some("www".into()),
        pkg: Some("pkg".into()),
        ..ServerConfig::default()
    };
    let mut level = match rust_log {
        Some(value) if !value.trim().is_empty() => {
            parse_level(value).ok_or_else(|| format!("RUST_LOG: '{value}' is not a log level"))?
        }
        _ => Level::Info,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--port" => {
                let raw = value()?;
                config.port = raw
                    .parse()
                    .map_err(|_| format!("--port: '{raw}' is not a port number (0-65535)"))?;
            }
            "--host" => config.host = value()?,
            "--www" => config.www = Some(PathBuf::from(value()?)),
            "--pkg" => config.pkg = Some(PathBuf::from(value()?)),
            "--import-realm" => config.realm_files.push(PathBuf::from(value()?)),
            "--admin-user" => {
                config.admin_user = value()?;
                if config.admin_user.trim().is_empty() {
                    return Err("--admin-user must not be empty".into());
                }
            }
            "--admin-password" => config.admin_password = value()?,
            "--log-level" => {
                let raw = value()?;
                level = parse_level(&raw).ok_or_else(|| {
                    format!("--log-level: '{raw}' is not one of error, warn, info, debug")
                })?;
            }
            "--hub-issuer" => config.hub.issuers.push(issuer(&value()?)?),
            "--hub-only" => config.hub_only = true,
            "--hub-audience" => {
                let audience = value()?;
                if audience.trim().is_empty() {
                    return Err("--hub-audience must not be empty".into());
                }
                config.hub.audience = Some(audience);
            }
            "--hub-heartbeat" => config.hub.heartbeat = seconds(&name, &value()?, 1)?,
            "--hub-auth-timeout" => config.hub.auth_timeout = seconds(&name, &value()?, 1)?,
            "--hub-jwks-min-interval" => {
                config.hub.jwks_min_interval = seconds(&name, &value()?, 0)?
            }
            "--ingest-token" => {
                let token = value()?;
                if token.trim().is_empty() {
                    return Err("--ingest-token must not be empty".into());
                }
                config.hub.ingest_token = Some(token);
            }
            "--ingest-token-file" => {
                let path = value()?;
                config.hub.ingest_token = Some(events_hub::config::secret_from_file(&name, &path)?);
            }
            "--ingest-client" => {
                let client = value()?;
                if client.trim().is_empty() {
                    return Err("--ingest-client must not be empty".into());
                }
                config.hub.ingest_clients.push(client);
            }
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if config.hub_only {
        if config.hub.issuers.is_empty() {
            return Err("--hub-only needs at least one --hub-issuer".into());
        }
        if !config.realm_files.is_empty() {
            return Err("--hub-only serves no realms: drop --import-realm".into());
        }
    }
    Ok(Command::Run(Box::new(config), level))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()), None)
    }

    #[test]
    fn parses_repeatable_realms_and_inline_values() {
        let Command::Run(config, level) = parse(&[
            "--import-realm",
            "a.json",
            "--import-realm=b.json",
            "--port=0",
            "--log-level",
            "debug",
        ])
        .unwrap() else {
            panic!("expected run");
        };
        assert_eq!(
            config.realm_files,
            vec![PathBuf::from("a.json"), PathBuf::from("b.json")]
        );
        assert_eq!(config.port, 0);
        assert_eq!(level, Level::Debug);
    }

    #[test]
    fn bad_flags_say_what_is_wrong() {
        assert_eq!(
            parse(&["--port", "http"]).unwrap_err(),
            "--port: 'http' is not a port number (0-65535)"
        );
        assert_eq!(
            parse(&["--import-realm"]).unwrap_err(),
            "--import-realm needs a value"
        );
        assert_eq!(
            parse(&["--frobnicate"]).unwrap_err(),
            "unknown argument '--frobnicate'"
        );
        assert!(parse(&["--log-level", "loud"])
            .unwrap_err()
            .starts_with("--log-level"));
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
    }

    #[test]
    fn hub_flags() {
        let Command::Run(config, _) = parse(&[
            "--hub-only",
            "--hub-issuer",
            "https://kc.example.com/realms/foo/",
            "--hub-issuer=http://127.0.0.1:9000/realms/bar",
            "--hub-heartbeat",
            "5",
            "--hub-auth-timeout=3",
            "--hub-jwks-min-interval",
            "0",
            "--hub-audience",
            "demo-app",
            "--ingest-token",
            "s3cret",
        ])
        .unwrap() else {
            panic!("expected run");
        };
        let hub = &config.hub;
        assert!(config.hub_only);
        assert_eq!(
            hub.issuers,
            vec![
                "https://kc.example.com/realms/foo".to_string(),
                "http://127.0.0.1:9000/realms/bar".to_string()
            ]
        );
        assert_eq!(hub.heartbeat, Duration::from_secs(5));
        assert_eq!(hub.auth_timeout, Duration::from_secs(3));
        assert_eq!(hub.jwks_min_interval, Duration::ZERO);
        assert_eq!(hub.audience.as_deref(), Some("demo-app"));
        assert!(
            !format!("{config:?}").contains("s3cret"),
            "the ingest token is redacted"
        );
        assert_eq!(
            parse(&["--hub-only"]).unwrap_err(),
            "--hub-only needs at least one --hub-issuer"
        );
        assert_eq!(
            parse(&[
                "--hub-only",
                "--hub-issuer",
                "https://a/realms/b",
                "--import-realm",
                "x.json"
            ])
            .unwrap_err(),
            "--hub-only serves no realms: drop --import-realm"
        );
        assert!(parse(&["--hub-heartbeat", "0"])
            .unwrap_err()
            .starts_with("--hub-heartbeat"));
        assert!(parse(&["--hub-issuer", "kc.example.com"])
            .unwrap_err()
            .starts_with("--hub-issuer"));
    }

    #[test]
    fn rust_log_sets_the_default_level() {
        let Command::Run(_, level) =
            parse_args(Vec::<String>::new(), Some("devserver=debug")).unwrap()
        else {
            panic!("expected run");
        };
        assert_eq!(level, Level::Debug);
        assert!(parse_args(Vec::<String>::new(), Some("nonsense")).is_err());
    }
}
