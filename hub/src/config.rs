//! The hub's settings, and the standalone binary's flags and environment variables. Every flag
//! has an environment variable; the ingest secret comes from the environment or a file only, so
//! that it never shows in `ps`.

use std::time::Duration;

use crate::log::Level;

/// The hub's settings.
#[derive(Clone)]
pub struct HubConfig {
    /// How often the server sends `{"type":"ping"}`.
    pub heartbeat: Duration,
    /// How long a connection may take to present a valid token.
    pub auth_timeout: Duration,
    /// Issuers whose tokens are accepted (besides the host's own), without trailing slash.
    pub issuers: Vec<String>,
    /// When set, a token's `azp` or `aud` must name this client.
    pub audience: Option<String>,
    /// A static secret that `/ingest` accepts as its bearer token.
    pub ingest_token: Option<String>,
    /// Clients whose service accounts may push events to `/ingest` (the token's `azp`).
    pub ingest_clients: Vec<String>,
    /// The least time between two fetches of an issuer's JWKS.
    pub jwks_min_interval: Duration,
    /// Open `/events` connections at most; more are refused with HTTP 503.
    pub max_connections: usize,
    /// Open `/ingest` connections at most.
    pub max_ingest_connections: usize,
    /// Events a connection may fall behind before it starts losing them.
    pub queue_size: usize,
    /// Events a connection may lose before it is closed with 4429; 0 closes at the first loss.
    pub max_dropped: u64,
    /// How long one frame may take to be written to a connection before it is dropped.
    pub send_timeout: Duration,
    /// Share events with other hubs through this Redis (`redis://host:port/db`); `None` runs
    /// the hub as a single process.
    pub redis_url: Option<String>,
    /// The Redis pub/sub channel the hubs of one deployment share.
    pub redis_channel: String,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            heartbeat: Duration::from_secs(25),
            auth_timeout: Duration::from_secs(10),
            issuers: Vec::new(),
            audience: None,
            ingest_token: None,
            ingest_clients: Vec::new(),
            jwks_min_interval: Duration::from_secs(10),
            max_connections: 10_000,
            max_ingest_connections: 16,
            queue_size: 1024,
            max_dropped: 0,
            send_timeout: Duration::from_secs(10),
            redis_url: None,
            redis_channel: "keycloak-events-hub".into(),
        }
    }
}

impl std::fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConfig")
            .field("heartbeat", &self.heartbeat)
            .field("auth_timeout", &self.auth_timeout)
            .field("issuers", &self.issuers)
            .field("audience", &self.audience)
            .field(
                "ingest_token",
                &self.ingest_token.as_ref().map(|_| "[redacted]"),
            )
            .field("ingest_clients", &self.ingest_clients)
            .field("jwks_min_interval", &self.jwks_min_interval)
            .field("max_connections", &self.max_connections)
            .field("max_ingest_connections", &self.max_ingest_connections)
            .field("queue_size", &self.queue_size)
            .field("max_dropped", &self.max_dropped)
            .field("send_timeout", &self.send_timeout)
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(crate::broker::redacted),
            )
            .field("redis_channel", &self.redis_channel)
            .finish()
    }
}

pub const USAGE: &str = "\
events-hub: live Keycloak events for browsers, fed by Keycloak (KETE)

USAGE:
    events-hub [OPTIONS]

Every option can also be set by the environment variable in brackets; a flag wins over its
variable. Durations are whole seconds.

OPTIONS:
    --listen ADDR              address to listen on (default 127.0.0.1:8081) [HUB_LISTEN]
    --issuer URL               accept access tokens of this issuer, e.g.
                               https://kc.example.com/realms/foo; repeatable, at least one
                               [HUB_ISSUERS, comma-separated]
    --audience CLIENT          tokens must name this client in azp or aud (default: not
                               checked) [HUB_AUDIENCE]
    --ingest-token-file FILE   a file holding the static bearer secret that /ingest accepts
                               (surrounding whitespace ignored) [HUB_INGEST_TOKEN_FILE]; or the
                               secret itself in [HUB_INGEST_TOKEN]; never as a flag
    --ingest-client CLIENT     a client whose service account may push events to /ingest;
                               repeatable [HUB_INGEST_CLIENTS, comma-separated]
    --heartbeat SECS           server ping interval (default 25) [HUB_HEARTBEAT]
    --auth-timeout SECS        how long a connection may take to authenticate (default 10)
                               [HUB_AUTH_TIMEOUT]
    --jwks-min-interval SECS   least time between two JWKS fetches of an issuer (default 10)
                               [HUB_JWKS_MIN_INTERVAL]
    --max-connections N        open /events connections at most; more get HTTP 503
                               (default 10000) [HUB_MAX_CONNECTIONS]
    --max-ingest-connections N open /ingest connections at most (default 16)
                               [HUB_MAX_INGEST_CONNECTIONS]
    --queue-size N             events a connection may fall behind (default 1024)
                               [HUB_QUEUE_SIZE]
    --max-dropped N            events a slow connection may lose before it is closed with 4429
                               (default 0: closed at the first loss) [HUB_MAX_DROPPED]
    --send-timeout SECS        how long writing one frame may take before the connection is
                               dropped (default 10) [HUB_SEND_TIMEOUT]
    --redis-url URL            share events with the other hubs of a deployment through this
                               Redis, e.g. redis://10.0.0.5:6379/0 (default: none, one process);
                               a URL with a password belongs in the variable [HUB_REDIS_URL]
    --redis-channel NAME       the pub/sub channel the hubs share (default keycloak-events-hub)
                               [HUB_REDIS_CHANNEL]
    --log-level LEVEL          error, warn, info or debug (default info) [HUB_LOG_LEVEL]
    -h, --help                 print this help

ENDPOINTS:
    GET /events   the browsers' WebSocket (subprotocol keycloak-events.v1)
    GET /ingest   KETE's WebSocket destination (Authorization: Bearer ...)
    GET /health   200 {\"status\":\"ok\",...} when serving; 503 when shutting down or when the
                  configured Redis is unreachable (the hub then serves its own events only)

Logs are JSON lines on stderr; they never contain a token. On SIGTERM or Ctrl-C the hub closes
every connection with 1012 (browsers reconnect at once) and exits.
";

/// What the standalone binary runs with.
#[derive(Debug)]
pub struct Options {
    pub listen: String,
    pub log_level: Level,
    pub hub: HubConfig,
}

#[derive(Debug)]
pub enum Command {
    Run(Box<Options>),
    Help,
}

fn number<T: std::str::FromStr + PartialOrd>(
    name: &str,
    raw: &str,
    min: T,
    max: T,
) -> Result<T, String> {
    match raw.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(format!(
            "{name}: '{raw}' is not a number in the allowed range"
        )),
    }
}

fn seconds(name: &str, raw: &str, min: u64) -> Result<Duration, String> {
    number(name, raw, min, 86_400).map(Duration::from_secs)
}

/// An issuer URL as tokens carry it: http(s), no trailing slash.
pub fn issuer(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(['?', '#', ' ']) => {
            Ok(trimmed.to_string())
        }
        _ => Err(format!(
            "issuer '{raw}' is not an issuer URL such as https://kc.example.com/realms/foo"
        )),
    }
}

fn not_empty(name: &str, raw: String) -> Result<String, String> {
    if raw.trim().is_empty() {
        Err(format!("{name} must not be empty"))
    } else {
        Ok(raw.trim().to_string())
    }
}

/// The ingest secret from a file: its content without surrounding whitespace.
pub fn secret_from_file(name: &str, path: &str) -> Result<String, String> {
    let content = std::fs::read_to_string(path)
        .map_err(|err| format!("{name}: cannot read '{path}': {err}"))?;
    not_empty(&format!("{name} ({path})"), content)
}

/// One setting: its flag, its variable, and how to apply a value.
struct Setting {
    flag: &'static str,
    variable: &'static str,
    /// Comma-separated in the variable, repeatable as a flag.
    list: bool,
}

const SETTINGS: &[Setting] = &[
    Setting {
        flag: "--listen",
        variable: "HUB_LISTEN",
        list: false,
    },
    Setting {
        flag: "--issuer",
        variable: "HUB_ISSUERS",
        list: true,
    },
    Setting {
        flag: "--audience",
        variable: "HUB_AUDIENCE",
        list: false,
    },
    Setting {
        flag: "--ingest-token-file",
        variable: "HUB_INGEST_TOKEN_FILE",
        list: false,
    },
    Setting {
        flag: "--ingest-client",
        variable: "HUB_INGEST_CLIENTS",
        list: true,
    },
    Setting {
        flag: "--heartbeat",
        variable: "HUB_HEARTBEAT",
        list: false,
    },
    Setting {
        flag: "--auth-timeout",
        variable: "HUB_AUTH_TIMEOUT",
        list: false,
    },
    Setting {
        flag: "--jwks-min-interval",
        variable: "HUB_JWKS_MIN_INTERVAL",
        list: false,
    },
    Setting {
        flag: "--max-connections",
        variable: "HUB_MAX_CONNECTIONS",
        list: false,
    },
    Setting {
        flag: "--max-ingest-connections",
        variable: "HUB_MAX_INGEST_CONNECTIONS",
        list: false,
    },
    Setting {
        flag: "--queue-size",
        variable: "HUB_QUEUE_SIZE",
        list: false,
    },
    Setting {
        flag: "--max-dropped",
        variable: "HUB_MAX_DROPPED",
        list: false,
    },
    Setting {
        flag: "--send-timeout",
        variable: "HUB_SEND_TIMEOUT",
        list: false,
    },
    Setting {
        flag: "--redis-url",
        variable: "HUB_REDIS_URL",
        list: false,
    },
    Setting {
        flag: "--redis-channel",
        variable: "HUB_REDIS_CHANNEL",
        list: false,
    },
    Setting {
        flag: "--log-level",
        variable: "HUB_LOG_LEVEL",
        list: false,
    },
];

fn apply(options: &mut Options, flag: &str, value: String) -> Result<(), String> {
    let hub = &mut options.hub;
    match flag {
        "--listen" => options.listen = not_empty(flag, value)?,
        "--issuer" => hub.issuers.push(issuer(&value)?),
        "--audience" => hub.audience = Some(not_empty(flag, value)?),
        "--ingest-token-file" => hub.ingest_token = Some(secret_from_file(flag, &value)?),
        "--ingest-client" => hub.ingest_clients.push(not_empty(flag, value)?),
        "--heartbeat" => hub.heartbeat = seconds(flag, &value, 1)?,
        "--auth-timeout" => hub.auth_timeout = seconds(flag, &value, 1)?,
        "--jwks-min-interval" => hub.jwks_min_interval = seconds(flag, &value, 0)?,
        "--max-connections" => hub.max_connections = number(flag, &value, 1, 1_000_000)?,
        "--max-ingest-connections" => hub.max_ingest_connections = number(flag, &value, 1, 10_000)?,
        "--queue-size" => hub.queue_size = number(flag, &value, 1, 1_000_000)?,
        "--max-dropped" => hub.max_dropped = number(flag, &value, 0, u64::MAX)?,
        "--send-timeout" => hub.send_timeout = seconds(flag, &value, 1)?,
        "--redis-url" => hub.redis_url = Some(not_empty(flag, value)?),
        "--redis-channel" => hub.redis_channel = not_empty(flag, value)?,
        "--log-level" => {
            options.log_level = Level::parse(&value).ok_or_else(|| {
                format!("{flag}: '{value}' is not one of error, warn, info, debug")
            })?
        }
        other => return Err(format!("unknown argument '{other}'")),
    }
    Ok(())
}

/// Parses the arguments (without the program name) over the environment (`variable` looks one
/// up).
pub fn parse(
    args: impl IntoIterator<Item = String>,
    variable: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--ingest-token" || arg.starts_with("--ingest-token=") {
            return Err(
                "the ingest secret is not taken on the command line (it would show in ps): use HUB_INGEST_TOKEN or --ingest-token-file"
                    .into(),
            );
        }
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_string(), value.to_string()),
            _ => {
                if !SETTINGS.iter().any(|s| s.flag == arg) {
                    return Err(format!("unknown argument '{arg}'"));
                }
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                (arg, value)
            }
        };
        flags.push((name, value));
    }
    let mut options = Options {
        listen: "127.0.0.1:8081".into(),
        log_level: Level::Info,
        hub: HubConfig::default(),
    };
    for setting in SETTINGS {
        let given: Vec<&String> = flags
            .iter()
            .filter(|(name, _)| name == setting.flag)
            .map(|(_, value)| value)
            .collect();
        if given.is_empty() {
            let Some(raw) = variable(setting.variable).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let values: Vec<String> = if setting.list {
                raw.split(',').map(str::to_string).collect()
            } else {
                vec![raw]
            };
            for value in values {
                apply(&mut options, setting.flag, value)
                    .map_err(|err| format!("{}: {err}", setting.variable))?;
            }
        } else {
            if !setting.list && given.len() > 1 {
                return Err(format!("{} is given more than once", setting.flag));
            }
            for value in given {
                apply(&mut options, setting.flag, value.clone())?;
            }
        }
    }
    if let Some((unknown, _)) = flags
        .iter()
        .find(|(name, _)| !SETTINGS.iter().any(|s| s.flag == name))
    {
        return Err(format!("unknown argument '{unknown}'"));
    }
    if options.hub.ingest_token.is_none() {
        if let Some(secret) = variable("HUB_INGEST_TOKEN").filter(|v| !v.trim().is_empty()) {
            options.hub.ingest_token = Some(secret.trim().to_string());
        }
    }
    if options.hub.issuers.is_empty() {
        return Err("at least one --issuer (or HUB_ISSUERS) is needed".into());
    }
    Ok(Command::Run(Box::new(options)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Options, String> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match parse(args.iter().map(|s| s.to_string()), |name| {
            env.get(name).cloned()
        })? {
            Command::Run(options) => Ok(*options),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn flags_win_over_variables_and_lists_split_on_commas() {
        let options = run(
            &["--issuer", "https://a.example/realms/x/", "--heartbeat=5"],
            &[
                ("HUB_ISSUERS", "https://ignored.example/realms/y"),
                ("HUB_HEARTBEAT", "9"),
                ("HUB_INGEST_CLIENTS", "kete, pusher"),
                ("HUB_MAX_CONNECTIONS", "20000"),
            ],
        )
        .unwrap();
        assert_eq!(options.hub.issuers, ["https://a.example/realms/x"]);
        assert_eq!(options.hub.heartbeat, Duration::from_secs(5));
        assert_eq!(options.hub.ingest_clients, ["kete", "pusher"]);
        assert_eq!(options.hub.max_connections, 20_000);
        assert_eq!(options.listen, "127.0.0.1:8081");
    }

    #[test]
    fn the_ingest_secret_never_comes_from_the_command_line() {
        let err = run(
            &[
                "--issuer",
                "https://a.example/realms/x",
                "--ingest-token",
                "s3cret",
            ],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("HUB_INGEST_TOKEN"), "{err}");
        assert!(!err.contains("s3cret"));
        let options = run(
            &["--issuer", "https://a.example/realms/x"],
            &[("HUB_INGEST_TOKEN", " s3cret\n")],
        )
        .unwrap();
        assert_eq!(options.hub.ingest_token.as_deref(), Some("s3cret"));
        assert!(
            !format!("{options:?}").contains("s3cret"),
            "redacted in Debug"
        );
    }

    #[test]
    fn every_setting_is_in_the_help() {
        for setting in SETTINGS {
            assert!(USAGE.contains(setting.flag), "{}", setting.flag);
            assert!(USAGE.contains(setting.variable), "{}", setting.variable);
        }
        assert!(USAGE.contains("HUB_INGEST_TOKEN]"));
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let err = run(&["--issuer", "ftp://x"], &[]).unwrap_err();
        assert!(err.contains("ftp://x"), "{err}");
        let err = run(
            &[],
            &[
                ("HUB_ISSUERS", "https://a/realms/x"),
                ("HUB_QUEUE_SIZE", "0"),
            ],
        )
        .unwrap_err();
        assert!(err.starts_with("HUB_QUEUE_SIZE"), "{err}");
        assert!(run(&["--nope", "1"], &[("HUB_ISSUERS", "https://a/realms/x")]).is_err());
        assert!(run(&[], &[]).unwrap_err().contains("--issuer"));
    }
}
