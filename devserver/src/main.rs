//! devserver: serves the demo app (`www/`) and the built package (`pkg/`) over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use tower_http::services::ServeDir;

const USAGE: &str = "\
devserver: a Keycloak-compatible development server

USAGE:
    devserver [--port PORT] [--host HOST] [--www DIR] [--pkg DIR]

OPTIONS:
    --port PORT   port to listen on (default 8080; 0 picks a free one)
    --host HOST   address to bind (default 127.0.0.1)
    --www DIR     the demo app served at / (default www)
    --pkg DIR     the built npm package served at /pkg (default pkg)
    -h, --help    print this help
";

struct Options {
    host: String,
    port: u16,
    www: PathBuf,
    pkg: PathBuf,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: 8080,
        www: "www".into(),
        pkg: "pkg".into(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let raw = value("--port")?;
                options.port = raw
                    .parse()
                    .map_err(|_| format!("--port: '{raw}' is not a port number"))?;
            }
            "--host" => options.host = value("--host")?,
            "--www" => options.www = value("--www")?.into(),
            "--pkg" => options.pkg = value("--pkg")?.into(),
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("devserver: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let app = Router::new()
        .nest_service("/pkg", ServeDir::new(&options.pkg))
        .fallback_service(ServeDir::new(&options.www));

    let addr = format!("{}:{}", options.host, options.port);
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("devserver: cannot listen on {addr}: {err}");
            std::process::exit(1);
        }
    };
    let local: SocketAddr = match listener.local_addr() {
        Ok(local) => local,
        Err(err) => {
            eprintln!("devserver: {err}");
            std::process::exit(1);
        }
    };
    // Tests and scripts wait for this line to learn the port.
    println!("devserver listening on http://{local}");
    if let Err(err) = axum::serve(listener, app).await {
        eprintln!("devserver: {err}");
        std::process::exit(1);
    }
}
