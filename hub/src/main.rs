//! `events-hub`: the live-event hub on its own, in front of one or more Keycloaks.

use std::process::ExitCode;
use std::sync::Arc;

use events_hub::config::{self, Command};
use events_hub::log::{self, Level};
use events_hub::{server, Hub};

/// Ctrl-C, or SIGTERM where there is one (what container runtimes send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = config::parse(std::env::args().skip(1), |name| std::env::var(name).ok());
    let options = match command {
        Ok(Command::Help) => {
            print!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(options)) => options,
        Err(err) => {
            eprintln!("events-hub: {err}\nTry 'events-hub --help'.");
            return ExitCode::from(2);
        }
    };
    log::set_level(options.log_level);
    let hub = Arc::new(Hub::standalone(options.hub.clone()));
    let mut running = match server::start(&options.listen, hub.clone()).await {
        Ok(running) => running,
        Err(err) => {
            eprintln!("events-hub: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("events-hub listening on {}", running.url());
    let issuers = hub.config.issuers.join(",");
    hub.host().log(&log::Record {
        level: Level::Info,
        message: "listening",
        fields: &[("addr", &running.addr), ("issuers", &issuers)],
    });
    let failed = tokio::select! {
        _ = stop_signal() => None,
        result = running.stopped() => Some(result),
    };
    match failed {
        None => {
            hub.host().log(&log::Record {
                level: Level::Info,
                message: "shutting down",
                fields: &[],
            });
            running.shutdown().await;
            ExitCode::SUCCESS
        }
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(err)) => {
            eprintln!("events-hub: {err}");
            ExitCode::FAILURE
        }
    }
}
