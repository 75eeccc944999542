//! Asks a module (or anything that speaks like one) for its firmware version,
//! MAC address and station IP information.
//!
//! ```sh
//! cargo run -p fcm242d --example query -- serial:/dev/ttyUSB0@115200
//! cargo run -p fcm242d --example query -- tcp:127.0.0.1:5000
//! ```

use fcm242d::client::Client;
use fcm242d::generated::commands::{qgetip, qversion, qwlmac};
use fcm242d::transport;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(target) = std::env::args().nth(1) else {
        eprintln!("usage: query serial:PATH[@BAUD] | tcp:HOST:PORT");
        std::process::exit(2);
    };
    let mut client = Client::new(transport::open(&target)?);
    client.on_urc(|notice| eprintln!("URC: {notice}"));

    let version = client.send(&qversion::Execute {})?;
    for line in &version.lines {
        println!("firmware: {}", line.version);
    }
    let mac = client.send(&qwlmac::Execute {})?;
    for line in &mac.lines {
        println!("MAC:      {}", line.mac.as_str());
    }
    let ip = client.send(&qgetip::Write {
        mode: qgetip::Mode::Station,
    });
    match ip {
        Ok(r) => {
            for l in &r.lines {
                println!(
                    "IP:       {} gateway {} mask {} DNS {}",
                    l.ip, l.gate, l.mask, l.dns
                );
            }
        }
        Err(e) => println!("IP:       not available ({e})"),
    }
    Ok(())
}
