//! The reviewer's programs with the blocking client: QIOPEN + QISEND,
//! QMTCFG "will", QMTSUB with two topics, QHTTPPOST, QBLEGATTSNTFY and
//! QPING, against the simulator in this process (the default) or any
//! module.
//!
//! ```sh
//! cargo run -p fcm242d --example reviewer_blocking -- all
//! cargo run -p fcm242d --example reviewer_blocking -- qping tcp:127.0.0.1:5000   # fcm242d-sim --tcp 127.0.0.1:5000
//! cargo run -p fcm242d --example reviewer_blocking -- qisend serial:/dev/ttyUSB0@115200
//! ```
//!
//! The servers, names and keys come from the simulator's world
//! (`World::environment`); on a real module the same names must exist on
//! its network (or edit them here).

#[path = "../shared/forms.rs"]
mod forms;
mod programs;

use fcm242d::client::Client;
use fcm242d::transport::Transport;
use fcm242d_sim::world::World;

use forms::{Env, Failure, PROGRAMS};

const USAGE: &str = "usage: reviewer_blocking [qisend|will|qmtsub|qhttppost|ble|qping|all] \
                     [sim | tcp:HOST:PORT | serial:PATH[@BAUD]]";

/// The link to the module: the simulator in this process by default.
fn open(target: &str) -> Result<Box<dyn Transport>, Failure> {
    if target == "sim" {
        // The quick start's way: the module runs on a thread of its own
        // until the link is dropped.
        let (link, _module) = fcm242d_sim::serve::in_process(World::default());
        return Ok(Box::new(link));
    }
    Ok(fcm242d::transport::open(target)?)
}

fn run(name: &str, client: &mut Client<Box<dyn Transport>>, env: &Env) -> Result<(), Failure> {
    match name {
        "qisend" => {
            let echoed = programs::qisend(client, env, b"hello echo")?;
            println!("QISEND: echoed {:?}", String::from_utf8_lossy(&echoed));
        }
        "will" => {
            let (set, cleared) = programs::will(client)?;
            println!("QMTCFG will: set {set:?}, then {cleared:?}");
        }
        "qmtsub" => println!("QMTSUB: granted {:?}", programs::qmtsub(client, env)?),
        "qhttppost" => {
            let (status, body) = programs::qhttppost(client, env, b"Message=HelloQuectel")?;
            println!(
                "QHTTPPOST: {status}, body {:?}",
                String::from_utf8_lossy(&body)
            );
        }
        "ble" => {
            programs::ble_notify(client, env, "hello phone")?;
            println!("QBLEGATTSNTFY: the phone was notified");
        }
        "qping" => {
            for urc in programs::qping(client, env)? {
                println!("QPING: {}", urc.render());
            }
        }
        other => return Err(format!("unknown program `{other}`\n{USAGE}").into()),
    }
    Ok(())
}

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let program = args.next().unwrap_or_else(|| "all".into());
    let target = args.next().unwrap_or_else(|| "sim".into());
    let env = World::default().environment();
    let names: Vec<&str> = if program == "all" {
        PROGRAMS.to_vec()
    } else {
        vec![program.as_str()]
    };
    for name in names {
        // A fresh module for each program, as each assumes a module just
        // booted (BLE initialises once per boot).
        let mut client = Client::new(open(&target)?);
        client.on_urc(|notice| eprintln!("URC: {notice}"));
        run(name, &mut client, &env)?;
    }
    Ok(())
}
