//! A firmware skeleton: an nRF52840 (Cortex-M4F) drives an FCM242D on
//! UARTE0 with the `fcm242d` async client on embassy. It joins a Wi-Fi
//! network, opens a TCP socket, sends a payload, pings, and watches the
//! URCs on a channel of its own, all in one task (`join`).
//!
//! Build: `cargo build --release` in this folder (the target,
//! thumbv7em-none-eabihf, is set in `.cargo/config.toml`; `rustup target
//! add thumbv7em-none-eabihf` once).

#![no_std]
#![no_main]

extern crate alloc;

use core::mem::MaybeUninit;
use core::time::Duration;

use embassy_executor::Spawner;
use embassy_futures::join::join;
use embassy_nrf::buffered_uarte::{self, BufferedUarte};
use embassy_nrf::{bind_interrupts, peripherals, uarte};
use embedded_alloc::LlffHeap as Heap;
use fcm242d::async_client::{AsyncClient, Error};
use fcm242d::generated::commands::{qiopen, qisend, qping, qstaapinfo};
use fcm242d::generated::urcs::{qstastat, Urc};
use fcm242d::pubsub::{NoopRawMutex, UrcChannel, WaitResult};
use fcm242d::timer::EmbassyTimer;
use fcm242d::value::{Host, Int, Text};
use panic_halt as _;

bind_interrupts!(struct Irqs {
    UARTE0 => buffered_uarte::InterruptHandler<peripherals::UARTE0>;
});

/// The runtime keeps its lines and replies on the heap.
#[global_allocator]
static HEAP: Heap = Heap::empty();
const HEAP_SIZE: usize = 32 * 1024;

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    {
        static mut HEAP_MEM: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
        // SAFETY: called once, before anything allocates; the memory is
        // used by the allocator only.
        unsafe { HEAP.init(core::ptr::addr_of_mut!(HEAP_MEM) as usize, HEAP_SIZE) }
    }
    let p = embassy_nrf::init(Default::default());
    let mut config = uarte::Config::default();
    config.baudrate = uarte::Baudrate::Baud115200;
    let mut rx_buffer = [0u8; 1024];
    let mut tx_buffer = [0u8; 1024];
    let uart = BufferedUarte::new(
        p.UARTE0,
        p.TIMER0,
        p.PPI_CH0,
        p.PPI_CH1,
        p.PPI_GROUP0,
        p.P0_08,
        p.P0_06,
        Irqs,
        config,
        &mut rx_buffer,
        &mut tx_buffer,
    );

    // Up to 8 notices waiting, for one subscriber (the watcher below).
    let urcs: UrcChannel<NoopRawMutex, 8, 1> = UrcChannel::new();
    let mut watcher = urcs.subscriber().unwrap();
    let mut client = AsyncClient::new(uart, EmbassyTimer);
    client.publish_to(&urcs);

    let work = async {
        loop {
            // A failure (time-out, refused socket) is retried after a pause.
            let _ = session(&mut client).await;
            embassy_time::Timer::after_secs(10).await;
        }
    };
    let watch = async {
        let mut lost = 0u64;
        loop {
            match watcher.next_message().await {
                WaitResult::Message(notice) => {
                    if let Some(Urc::QiurcClosed(_)) = notice.urc() {
                        // The peer closed the socket: a real firmware
                        // would reconnect here.
                    }
                }
                // The channel was full: `n` notices were missed.
                WaitResult::Lagged(n) => lost += n,
            }
            core::hint::black_box(lost);
        }
    };
    join(work, watch).await;
}

/// The socket the firmware uses (a literal: checked when compiling).
const SOCKET: Int<0, 11> = Int::lit::<0>();

/// Joins the network, opens socket 0, sends a payload, pings the server.
/// Gives up (`Ok`) when the network or the server does not answer as
/// hoped; the caller tries again later.
async fn session<IO, T>(client: &mut AsyncClient<'_, IO, T>) -> Result<(), Error<IO::Error>>
where
    IO: fcm242d::async_client::Read + fcm242d::async_client::Write,
    T: fcm242d::timer::Timer,
{
    // `Text` has no compile-time constructor: these literals are valid, so
    // `unwrap` cannot fail on them.
    client
        .send(&qstaapinfo::Write {
            ssid: Text::new("my-network").unwrap(),
            pwd: Some(Text::new("my-password").unwrap()),
        })
        .await?;
    // The address comes as a URC; `wait_for` takes it out of the stream
    // (`None`: not within the time).
    let joined = client
        .wait_for_urc(
            Duration::from_secs(30),
            |u| matches!(u, Urc::Qstastat(s) if s.event == qstastat::Event::GotIp),
        )
        .await?;
    if joined.is_none() {
        return Ok(());
    }
    let open = client
        .send(&qiopen::Write {
            connect_id: SOCKET,
            service_type: qiopen::ServiceType::Tcp,
            ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
                core::net::Ipv4Addr::new(192, 0, 2, 2),
            ),
            remote_port: Int::lit::<8009>(),
            local_port_group: None,
        })
        .await?;
    // The completion URC (`+QIOPEN: 0,<err>`) is part of the response.
    if !matches!(open.completion, Some(Urc::Qiopen(ref o)) if o.err.is_success()) {
        return Ok(());
    }
    // `send_payload` sets `<send_length>` from the payload: the 0 here is
    // never sent.
    let send = qisend::WriteConnectIdSendLength {
        connect_id: SOCKET,
        send_length: Int::lit::<0>(),
    };
    client.send_payload(&send, b"hello from embassy").await?;
    // A series: the replies and the final line, in one response.
    let ping = client
        .send(&qping::Write {
            host: Host::new("192.0.2.2").unwrap(),
            timeout_group: None,
        })
        .await?;
    core::hint::black_box(ping.series.len());
    Ok(())
}
