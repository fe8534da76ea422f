//! Command-line parsing for the binary.

use std::path::PathBuf;

use crate::log::Level;
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
            .finish()
    }
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
            Level::parse(value).ok_or_else(|| format!("RUST_LOG: '{value}' is not a log level"))?
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
                level = Level::parse(&raw).ok_or_else(|| {
                    format!("--log-level: '{raw}' is not one of error, warn, info, debug")
                })?;
            }
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument '{other}'")),
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
