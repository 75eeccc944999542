//! `fcm242d-sim`: a virtual FCM242D / FGM842D module.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use fcm242d_sim::serve;
use fcm242d_sim::world::World;

const USAGE: &str = "usage: fcm242d-sim [--stdio | --tcp ADDR] [--world FILE]

  --stdio        the module's UART on standard input/output (default)
  --tcp ADDR     listen on ADDR (e.g. 127.0.0.1:5000); each connection is a UART
  --world FILE   a YAML world file overriding the embedded world";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut tcp: Option<String> = None;
    let mut world_file: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stdio" => tcp = None,
            "--tcp" => tcp = args.next().or(Some("127.0.0.1:5000".into())),
            "--world" => world_file = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("fcm242d-sim: unexpected argument `{other}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let world = match world_file {
        Some(path) => match World::load(&path) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("fcm242d-sim: {e}");
                return ExitCode::from(2);
            }
        },
        None => World::default(),
    };
    eprint!("{}", world.banner());
    eprintln!(
        "  modelled: general, Wi-Fi, BLE, TCP/UDP, file system, PING/DNS/NTP; \
         transparent mode for TCP/UDP clients; not yet: SSL, MQTT, HTTP(S) (their commands answer ERROR)"
    );
    let result = match tcp {
        Some(addr) => match TcpListener::bind(&addr) {
            Ok(listener) => {
                eprintln!(
                    "fcm242d-sim: listening on {}",
                    listener.local_addr().map(|a| a.to_string()).unwrap_or(addr)
                );
                serve::tcp(listener, world)
            }
            Err(e) => Err(e),
        },
        None => serve::stdio(world),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fcm242d-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
