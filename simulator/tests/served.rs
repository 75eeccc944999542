//! The world's record of what its services did with a connection
//! (`Activity::served`): what a client of the world (the HTTP worker
//! judging a new connection, 714/715) relies on instead of the timing of
//! the kernel's loopback delivery.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use fcm242d_sim::activity::Served;
use fcm242d_sim::services::Services;
use fcm242d_sim::world::{Protocol, Service};

/// Waits (bounded) until the world is quiet (a service's thread may wake
/// now and then afterwards: quiet once is what a client waits for).
fn quiet(services: &Services) {
    let until = Instant::now() + Duration::from_secs(10);
    while !services.activity().is_quiet() {
        assert!(Instant::now() < until, "the world never went quiet");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A client of `service` (started in `services`) and its address.
fn client(services: &Services, service: &Service) -> (TcpStream, std::net::SocketAddr) {
    let addr = services.started(service, Protocol::Tcp).unwrap();
    let client = TcpStream::connect(addr).unwrap();
    let me = client.local_addr().unwrap();
    (client, me)
}

#[test]
fn a_connection_a_service_closes_is_recorded_as_ended_before_the_world_is_quiet() {
    let services = Services::new();
    let close = Service::Close {
        greeting: None,
        tls: false,
    };
    for _ in 0..20 {
        let (_client, me) = client(&services, &close);
        quiet(&services);
        // Recorded by the time the world is quiet, whatever the kernel
        // has delivered to `client` yet.
        assert_eq!(services.activity().served(me), Served::Ended);
    }
}

#[test]
fn a_connection_a_service_keeps_is_open_and_one_it_never_saw_is_unknown() {
    let services = Services::new();
    let echo = Service::TcpEcho {
        greeting: None,
        once: false,
    };
    let (first, me) = client(&services, &echo);
    quiet(&services);
    assert_eq!(services.activity().served(me), Served::Open);
    drop(first);
    let (other, _) = client(&services, &echo);
    let stranger = "127.0.0.1:9".parse().unwrap();
    assert_eq!(services.activity().served(stranger), Served::Unknown);
    drop(other);
}

#[test]
fn an_external_server_is_not_a_service_of_the_world() {
    // Nobody can see what it does with a connection: a client of the
    // world must not wait for a record that never comes.
    let services = Services::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = listener.local_addr().unwrap().to_string();
    let addr = services
        .started(&Service::External { to }, Protocol::Tcp)
        .unwrap();
    assert!(!services.is_service(addr));
    let echo = services
        .started(
            &Service::TcpEcho {
                greeting: None,
                once: false,
            },
            Protocol::Tcp,
        )
        .unwrap();
    assert!(services.is_service(echo));
}
