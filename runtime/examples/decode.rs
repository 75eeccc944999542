//! Decodes a module's output, as recorded in the manual's "SSL Client in
//! Buffer Access Mode" example, into typed events. Runs anywhere, no module
//! needed:
//!
//! ```sh
//! cargo run -p fcm242d --example decode
//! ```

use fcm242d::command::AtCommand;
use fcm242d::engine::{Engine, Event};
use fcm242d::generated::commands::{qsslopen, qsslrecv, qsslstate};
use fcm242d::value::{Host, Int};

fn show<C: AtCommand>(engine: &mut Engine, cmd: &C, module_output: &[u8]) {
    let bytes = engine.command(cmd);
    println!(">> {}", String::from_utf8_lossy(bytes).trim_end());
    // A UART hands bytes over in small pieces; the engine does not mind.
    for chunk in module_output.chunks(7) {
        engine.feed(chunk);
    }
    while let Some(event) = engine.poll() {
        match event {
            // The engine decoded the line with the form's line type already.
            Event::Line(line) => match line.downcast::<C::Line>() {
                Ok(typed) => println!("   line  {typed:?}"),
                Err(other) => println!("   line  {other:?}"),
            },
            Event::Urc(urc) => println!("   URC   {urc:?}"),
            Event::Data(data) => println!("   data  {:?}", String::from_utf8_lossy(&data)),
            other => println!("   {other:?}"),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new();
    let open = qsslopen::Write {
        ssl_ctx_id: Int::new(1)?,
        connect_id: Int::new(4)?,
        server_address: Host::new("192.0.2.2")?,
        server_port: 8010,
        access_mode: Some(qsslopen::AccessMode::Buffer),
    };
    show(&mut engine, &open, b"\r\nOK\r\n\r\n+QSSLOPEN: 4,0\r\n");
    show(
        &mut engine,
        &qsslstate::Execute {},
        b"\r\n+QSSLSTATE: 4,\"SSLClient\",\"192.0.2.2\",8010,65344,2,4,0,\"uart1\",1\r\n\r\nOK\r\n\r\n+QSSLURC: \"recv\",4\r\n",
    );
    let recv = qsslrecv::Write {
        connect_id: Int::new(4)?,
        read_length: Int::new(1500)?,
    };
    show(
        &mut engine,
        &recv,
        b"\r\n+QSSLRECV: 18\r\nTest data from SSL\r\n\r\nOK\r\n",
    );
    Ok(())
}
