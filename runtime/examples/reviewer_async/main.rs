//! The reviewer's programs with the async client on tokio: QIOPEN +
//! QISEND, QMTCFG "will", QMTSUB with two topics, QHTTPPOST, QBLEGATTSNTFY
//! and QPING, against the simulator in this process (the default) or any
//! module on a TCP or serial port. URCs go to a channel that a task of its
//! own prints.
//!
//! ```sh
//! cargo run -p fcm242d --features tokio --example reviewer_async -- all
//! cargo run -p fcm242d --features tokio --example reviewer_async -- qmtsub tcp:127.0.0.1:5000   # fcm242d-sim --tcp 127.0.0.1:5000
//! cargo run -p fcm242d --features tokio --example reviewer_async -- ble serial:/dev/ttyUSB0@115200
//! ```

#[path = "../shared/bridge.rs"]
mod bridge;
#[path = "../shared/forms.rs"]
mod forms;
mod programs;

use fcm242d::async_client::AsyncClient;
use fcm242d::pubsub::{CriticalSectionRawMutex, UrcChannel, WaitResult};
use fcm242d::timer::TokioTimer;
use fcm242d::transport::Transport;
use fcm242d_sim::world::World;

use forms::{Env, Failure, PROGRAMS};
use programs::Modem;

const USAGE: &str = "usage: reviewer_async [qisend|will|qmtsub|qhttppost|ble|qping|all] \
                     [sim | tcp:HOST:PORT | serial:PATH[@BAUD]]";

/// Every notice of every program, for the printing task.
static URCS: UrcChannel<CriticalSectionRawMutex, 16, 1> = UrcChannel::new();

/// The link to the module: the simulator in this process by default.
fn open(target: &str) -> Result<Box<dyn Transport>, Failure> {
    if target == "sim" {
        let (link, _module) = fcm242d_sim::serve::in_process(World::default());
        return Ok(Box::new(link));
    }
    Ok(fcm242d::transport::open(target)?)
}

async fn run(name: &str, client: &mut Modem<'_>, env: &Env) -> Result<(), Failure> {
    match name {
        "qisend" => {
            let echoed = programs::qisend(client, env, b"hello echo").await?;
            println!("QISEND: echoed {:?}", String::from_utf8_lossy(&echoed));
        }
        "will" => {
            let (set, cleared) = programs::will(client).await?;
            println!("QMTCFG will: set {set:?}, then {cleared:?}");
        }
        "qmtsub" => println!("QMTSUB: granted {:?}", programs::qmtsub(client, env).await?),
        "qhttppost" => {
            let (status, body) = programs::qhttppost(client, env, b"Message=HelloQuectel").await?;
            println!(
                "QHTTPPOST: {status}, body {:?}",
                String::from_utf8_lossy(&body)
            );
        }
        "ble" => {
            programs::ble_notify(client, env, "hello phone").await?;
            println!("QBLEGATTSNTFY: the phone was notified");
        }
        "qping" => {
            for urc in programs::qping(client, env).await? {
                println!("QPING: {}", urc.render());
            }
        }
        other => return Err(format!("unknown program `{other}`\n{USAGE}").into()),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let program = args.next().unwrap_or_else(|| "all".into());
    let target = args.next().unwrap_or_else(|| "sim".into());
    let env = World::default().environment();

    // One subscriber slot (the channel's `SUBS`), taken once.
    let mut urcs = URCS
        .subscriber()
        .map_err(|e| format!("URC channel: {e:?}"))?;
    tokio::spawn(async move {
        loop {
            match urcs.next_message().await {
                WaitResult::Message(notice) => eprintln!("URC: {notice}"),
                WaitResult::Lagged(n) => eprintln!("{n} URCs missed"),
            }
        }
    });

    let names: Vec<&str> = if program == "all" {
        PROGRAMS.to_vec()
    } else {
        vec![program.as_str()]
    };
    for name in names {
        // A link of its own for each program: a freshly booted module.
        let link = bridge::bridge(open(&target)?);
        let mut client = AsyncClient::new(link, TokioTimer::new());
        client.publish_to(&URCS);
        run(name, &mut client, &env).await?;
    }
    Ok(())
}
