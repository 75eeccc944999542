//! A firmware that uses the fcm242d engine the way a small host would: it
//! sends `AT+QVERSION`, opens a TCP socket with `AT+QIOPEN` (waiting for its
//! `+QIOPEN` URC) and sends data with `AT+QISEND`, decoding everything the
//! module answers into typed events. The UART is stood in for by volatile
//! reads and writes of a static buffer, so nothing is optimised away.
//! `cargo xtask size` links it and reports its `.text`.

#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use cortex_m_rt::entry;
use embedded_alloc::LlffHeap as Heap;
use fcm242d::command::AtCommand;
use fcm242d::engine::{Engine, Event, Final};
use fcm242d::generated::commands::{qiopen, qisend, qversion};
use panic_halt as _;

#[global_allocator]
static HEAP: Heap = Heap::empty();

/// What the "UART" received (written by a DMA engine, say).
static mut RX: [u8; 256] = [0; 256];
/// What the firmware sends.
static mut TX: [u8; 256] = [0; 256];
/// A sink for decoded values.
static mut SINK: u32 = 0;

/// Reads one chunk of "received" bytes.
fn receive(buf: &mut [u8]) -> usize {
    let n = buf.len().min(64);
    for (i, b) in buf.iter_mut().take(n).enumerate() {
        // SAFETY: a plain read of a static, as a driver reads its DMA buffer.
        *b = unsafe { core::ptr::read_volatile(addr_of!(RX).cast::<u8>().add(i)) };
    }
    n
}

/// "Writes" bytes to the UART.
fn transmit(bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate().take(256) {
        // SAFETY: a plain write of a static.
        unsafe { core::ptr::write_volatile(addr_of_mut!(TX).cast::<u8>().add(i), *b) };
    }
}

fn note(v: u32) {
    // SAFETY: a plain write of a static.
    unsafe { core::ptr::write_volatile(addr_of_mut!(SINK), v) };
}

/// Sends `cmd` (encoded into a stack buffer, no heap) and decodes until its
/// final result.
fn exchange<C: AtCommand>(engine: &mut Engine, cmd: &C) -> Option<Final> {
    let mut line = [0u8; 128];
    if let Ok(n) = cmd.encode_into(&mut line) {
        transmit(&line[..n]);
        transmit(b"\r\n");
    }
    let _ = engine.command(cmd);
    let mut rx = [0u8; 64];
    for _ in 0..100 {
        let n = receive(&mut rx);
        engine.feed(&rx[..n]);
        while let Some(event) = engine.poll() {
            match event {
                Event::Line(l) => {
                    if let Some(v) = l.get::<qversion::ExecuteLine>() {
                        note(v.version.len() as u32);
                    }
                }
                Event::Urc(u) => note(u.field_int("connectID").unwrap_or(-1) as u32),
                Event::Prompt => transmit(b"hello"),
                Event::Final(f) => return Some(f),
                _ => note(0),
            }
        }
    }
    None
}

#[entry]
fn main() -> ! {
    {
        const HEAP_SIZE: usize = 16 * 1024;
        static mut HEAP_MEM: [u8; HEAP_SIZE] = [0; HEAP_SIZE];
        // SAFETY: called once, before any allocation.
        unsafe { HEAP.init(addr_of_mut!(HEAP_MEM) as usize, HEAP_SIZE) }
    }
    let mut engine = Engine::new();
    let _ = exchange(&mut engine, &qversion::Execute {});
    if let Ok(open) = qiopen::Write::parse("AT+QIOPEN=1,\"TCP\",\"192.168.1.2\",8080") {
        let _ = exchange(&mut engine, &open);
    }
    if let Ok(send) = qisend::WriteConnectIdSendLength::parse("AT+QISEND=1,5") {
        let _ = exchange(&mut engine, &send);
    }
    loop {
        cortex_m::asm::wfi();
    }
}
