//! The devserver binary: parses the command line and runs the server.

use devserver::cli::{parse_args, Command, USAGE};
use devserver::log::{self, Level};

#[tokio::main]
async fn main() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (mut config, level) = match parse_args(std::env::args().skip(1), rust_log.as_deref()) {
        Ok(Command::Run(config, level)) => (config, level),
        Ok(Command::Help) => {
            print!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("devserver: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    log::set_level(level);
    if config.hub.ingest_token.is_none() {
        config.hub.ingest_token = std::env::var("DEVSERVER_INGEST_TOKEN")
            .ok()
            .map(|secret| secret.trim().to_string())
            .filter(|secret| !secret.is_empty());
    }
    let hub_only = config.hub_only;
    let server = match devserver::start(*config).await {
        Ok(server) => server,
        Err(message) => {
            eprintln!("devserver: {message}");
            std::process::exit(1);
        }
    };
    // Tests and scripts wait for this line to learn the port.
    println!("devserver listening on {}", server.url());
    let hub = &server.state.hub.config;
    if hub_only {
        log::log(
            Level::Info,
            &format!("hub only (/events, /ingest) for {}", hub.issuers.join(", ")),
        );
    } else {
        let realms: Vec<String> = server.state.realms().keys().cloned().collect();
        log::log(Level::Info, &format!("realms: {}", realms.join(", ")));
    }
    tokio::select! {
        result = server.wait() => {
            if let Err(message) = result {
                eprintln!("devserver: {message}");
                std::process::exit(1);
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
}
