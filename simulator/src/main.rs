//! `fcm242d-sim`: a virtual FCM242D / FGM842D module.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use fcm242d_sim::faults::Faults;
use fcm242d_sim::module::Module;
use fcm242d_sim::world::World;
use fcm242d_sim::{pty, serve};

const USAGE: &str = "usage: fcm242d-sim [--stdio | --tcp ADDR | --pty [--pty-link PATH]] [--world FILE]
                   [--faults SPEC] [--seed N]

  --stdio          the module's UART on standard input/output (default); when
                   input ends, runs until everything the commands caused was
                   printed, then exits
  --tcp ADDR       listen on ADDR (e.g. 127.0.0.1:5000); each connection is a UART
  --pty            create a pseudo-terminal, print its path (one line on standard
                   output) and serve the module on it, like a USB serial device
  --pty-link PATH  also make PATH a symbolic link to the pseudo-terminal
  --world FILE     a YAML world file overriding the embedded world
  --faults SPEC    fault injection, e.g.
                   delay=0..200ms,fragment=1..8,drop=0.001,garble=0.001,urc=0.05,reboot=0.0005,linkdrop=0.001
                   (keys: seed delay fragment drop drop-in drop-out garble garble-in
                   garble-out urc reboot linkdrop; probabilities as 0..1 or N%)
  --seed N         the seed of the faults' random choices (same seed, same run)";

/// Where the module's UART goes.
enum FrontEnd {
    Stdio,
    Tcp(String),
    Pty { link: Option<PathBuf> },
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut front = FrontEnd::Stdio;
    let mut pty_link: Option<PathBuf> = None;
    let mut world_file: Option<PathBuf> = None;
    let mut fault_spec: Option<String> = None;
    let mut seed: Option<u64> = None;
    let missing = |what: &str| {
        eprintln!("fcm242d-sim: {what} needs a value\n\n{USAGE}");
        ExitCode::from(2)
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stdio" => front = FrontEnd::Stdio,
            "--tcp" => front = FrontEnd::Tcp(args.next().unwrap_or("127.0.0.1:5000".into())),
            "--pty" => front = FrontEnd::Pty { link: None },
            "--pty-link" => match args.next() {
                Some(p) => pty_link = Some(PathBuf::from(p)),
                None => return missing("--pty-link"),
            },
            "--world" => match args.next() {
                Some(p) => world_file = Some(PathBuf::from(p)),
                None => return missing("--world"),
            },
            "--faults" => match args.next() {
                Some(s) => fault_spec = Some(s),
                None => return missing("--faults"),
            },
            "--seed" => match args.next().map(|s| s.parse::<u64>()) {
                Some(Ok(n)) => seed = Some(n),
                Some(Err(_)) => {
                    eprintln!("fcm242d-sim: --seed needs a whole number\n\n{USAGE}");
                    return ExitCode::from(2);
                }
                None => return missing("--seed"),
            },
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
    if let FrontEnd::Pty { link } = &mut front {
        *link = pty_link;
    } else if pty_link.is_some() {
        eprintln!("fcm242d-sim: --pty-link needs --pty\n\n{USAGE}");
        return ExitCode::from(2);
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
    let mut faults = match &fault_spec {
        Some(spec) => match spec.parse::<Faults>() {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fcm242d-sim: {e}");
                return ExitCode::from(2);
            }
        },
        None => world
            .faults
            .as_ref()
            .map(|s| s.faults())
            .unwrap_or_default(),
    };
    if let Some(seed) = seed {
        faults.seed = seed;
    }
    eprint!("{}", world.banner());
    match write_certificates() {
        Ok(dir) => eprintln!(
            "  test certificates (the CA signs every TLS server of the world): {}",
            dir.display()
        ),
        Err(e) => eprintln!("  test certificates: not written ({e})"),
    }
    if faults.any() {
        eprintln!("  faults: {faults}");
    }
    let result = match front {
        FrontEnd::Tcp(addr) => match TcpListener::bind(&addr) {
            Ok(listener) => {
                eprintln!(
                    "fcm242d-sim: listening on {}",
                    listener.local_addr().map(|a| a.to_string()).unwrap_or(addr)
                );
                serve::tcp_with(listener, world, faults)
            }
            Err(e) => Err(e),
        },
        FrontEnd::Pty { link } => serve_pty(world, faults, link),
        FrontEnd::Stdio => serve::stdio_with(world, faults),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fcm242d-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the test certificates (the CA that signs the world's TLS
/// servers, the module's client certificate and key) where a user can load
/// them into a module or a host's TLS client; returns the directory.
fn write_certificates() -> std::io::Result<PathBuf> {
    use fcm242d_sim::services::tls::{CA_PEM, CLIENT_CERT_PEM, CLIENT_KEY_PEM};
    let dir = std::env::temp_dir().join("fcm242d-sim-certificates");
    std::fs::create_dir_all(&dir)?;
    for (name, pem) in [
        ("ca.pem", CA_PEM),
        ("client.pem", CLIENT_CERT_PEM),
        ("client.key.pem", CLIENT_KEY_PEM),
    ] {
        std::fs::write(dir.join(name), pem)?;
    }
    Ok(dir)
}

/// Creates the pseudo-terminal, tells its path, and serves it.
fn serve_pty(world: World, faults: Faults, link: Option<PathBuf>) -> std::io::Result<()> {
    let device = pty::Pty::open()?;
    // Booted before the path is printed, so a client that opens the device
    // at once gets its first answer as quickly as the others.
    let module = Module::new(world);
    if let Some(link) = &link {
        pty::link(device.path(), link)?;
        eprintln!(
            "fcm242d-sim: {} -> {}",
            link.display(),
            device.path().display()
        );
    }
    // The path alone on its line, so a script can read it.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", device.path().display())?;
    out.flush()?;
    drop(out);
    pty::serve_live(device, module, &faults)
}
