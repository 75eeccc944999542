//! The SSL group and the TLS building blocks: the committed test PKI, the
//! embedded TLS servers, and `AT+QSSL*` through the runtime client.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fcm242d::generated::commands::qsslcfg;
use fcm242d_sim::groups::ssl::SslContext;
use fcm242d_sim::services::tls::{self, Recv, TlsClient};
use fcm242d_sim::world::{Protocol, Service};
use rustls::client::danger::ServerCertVerifier;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

// ------------------------------------------------------------------ the test PKI

/// The names the embedded servers' certificates carry.
const SERVER_NAMES: &[&str] = &[
    "192.0.2.2",
    "www.example.com",
    "example.com",
    "localhost",
    "127.0.0.1",
    "sim.example",
];

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/tls")
}

/// Rewrites `simulator/assets/tls/*` (run once, by hand:
/// `cargo test -p fcm242d-sim --test ssl -- --ignored regenerate_tls_assets`).
/// The RSA server key is kept when it exists; otherwise `openssl genpkey`
/// makes one (*ring*, rcgen's backend here, cannot generate RSA keys).
#[test]
#[ignore]
fn regenerate_tls_assets() {
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
        ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let dir = assets();
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    let validity = |p: &mut CertificateParams| {
        p.not_before = date_time_ymd(2024, 1, 1);
        p.not_after = date_time_ymd(2099, 12, 31);
    };
    let dn = |cn: &str| {
        let mut d = DistinguishedName::new();
        d.push(DnType::OrganizationName, "fcm242d-sim test PKI");
        d.push(DnType::CommonName, cn);
        d
    };

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    validity(&mut ca);
    ca.distinguished_name = dn("fcm242d-sim test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    write("ca.pem", &ca_cert.pem());
    write("ca.key.pem", &ca_key.serialize_pem());
    let issuer = Issuer::new(ca, ca_key);

    let server = |key: &KeyPair| {
        let names: Vec<String> = SERVER_NAMES.iter().map(|s| s.to_string()).collect();
        let mut p = CertificateParams::new(names).unwrap();
        validity(&mut p);
        p.distinguished_name = dn("sim.example");
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.signed_by(key, &issuer).unwrap()
    };

    let rsa_path = dir.join("server-rsa.key.pem");
    if !rsa_path.exists() {
        let status = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .arg("-out")
            .arg(&rsa_path)
            .status()
            .expect("openssl on PATH");
        assert!(status.success());
    }
    let rsa_key = KeyPair::from_pem(&std::fs::read_to_string(&rsa_path).unwrap()).unwrap();
    write("server-rsa.pem", &server(&rsa_key).pem());

    let ecdsa_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    write("server-ecdsa.pem", &server(&ecdsa_key).pem());
    write("server-ecdsa.key.pem", &ecdsa_key.serialize_pem());

    let client_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    validity(&mut client);
    client.distinguished_name = dn("fcm242d-sim module");
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    write(
        "client.pem",
        &client.signed_by(&client_key, &issuer).unwrap().pem(),
    );
    write("client.key.pem", &client_key.serialize_pem());
}

fn cert(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

fn ca_roots() -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add(cert(tls::CA_PEM)).unwrap();
    Arc::new(roots)
}

/// The committed files parse, the keys match, and every leaf chains to the CA.
#[test]
fn committed_pki_parses_and_chains() {
    let provider = tls::provider();
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(ca_roots(), provider.clone())
            .build()
            .unwrap();
    let now = UnixTime::now();
    for leaf in [tls::SERVER_CERT_PEM, tls::SERVER_ECDSA_CERT_PEM] {
        for name in SERVER_NAMES {
            let name = ServerName::try_from(name.to_string()).unwrap();
            verifier
                .verify_server_cert(&cert(leaf), &[], &name, &[], now)
                .unwrap();
        }
        let other = ServerName::try_from("other.example").unwrap();
        assert!(verifier
            .verify_server_cert(&cert(leaf), &[], &other, &[], now)
            .is_err());
    }
    // Valid until 2099.
    let late = UnixTime::since_unix_epoch(std::time::Duration::from_secs(4_070_908_800)); // 2099-01-01
    let name = ServerName::try_from("192.0.2.2").unwrap();
    verifier
        .verify_server_cert(&cert(tls::SERVER_CERT_PEM), &[], &name, &[], late)
        .unwrap();

    let client_verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(ca_roots(), provider.clone())
            .build()
            .unwrap();
    client_verifier
        .verify_client_cert(&cert(tls::CLIENT_CERT_PEM), &[], now)
        .unwrap();

    for (c, k) in [
        (tls::SERVER_CERT_PEM, tls::SERVER_KEY_PEM),
        (tls::SERVER_ECDSA_CERT_PEM, tls::SERVER_ECDSA_KEY_PEM),
        (tls::CLIENT_CERT_PEM, tls::CLIENT_KEY_PEM),
    ] {
        let key = PrivateKeyDer::from_pem_slice(k.as_bytes()).unwrap();
        let signing = provider.key_provider.load_private_key(key).unwrap();
        rustls::sign::CertifiedKey::new(vec![cert(c)], signing)
            .keys_match()
            .unwrap();
    }
    PrivateKeyDer::from_pem_slice(tls::CA_KEY_PEM.as_bytes()).unwrap();
}

// ------------------------------------------------------------------ the client API

/// How long a test waits for something the network should cause.
const PATIENCE: Duration = Duration::from_secs(10);

fn ufs(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    entries
        .iter()
        .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
        .collect()
}

/// Sends `data` and reads the echo back through a [`TlsClient`].
fn echo_through(client: &mut TlsClient, data: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + PATIENCE;
    let mut sent = 0;
    let mut got = Vec::new();
    while got.len() < data.len() {
        assert!(
            Instant::now() < deadline,
            "echo: {} of {}",
            got.len(),
            data.len()
        );
        if sent < data.len() {
            sent += client.send(&data[sent..]).unwrap();
        }
        client.flush().unwrap();
        match client.recv(64 * 1024) {
            Recv::Data(d) => got.extend(d),
            Recv::WouldBlock => std::thread::sleep(Duration::from_millis(1)),
            other => panic!("recv: {other:?}"),
        }
    }
    got
}

#[test]
fn client_reaches_the_embedded_tls_echo_with_each_seclevel() {
    let addr = fcm242d_sim::services::started(
        &Service::TlsEcho {
            greeting: None,
            client_auth: false,
            once: false,
        },
        Protocol::Tcp,
    )
    .unwrap();
    let files = ufs(&[("ca.pem", tls::CA_PEM)]);
    for seclevel in qsslcfg::SecurityLevel::ALL {
        let ctx = SslContext {
            seclevel: *seclevel,
            cacert: "ca.pem".into(),
            ..SslContext::default()
        };
        let config = tls::client_config(&files, &ctx).unwrap();
        let mut client = TlsClient::connect(addr, "192.0.2.2", config, PATIENCE, PATIENCE).unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        assert_eq!(echo_through(&mut client, &data), data);
        client.close();
    }
}

#[test]
fn verification_needs_the_right_ca_and_name() {
    let addr = fcm242d_sim::services::started(
        &Service::TlsEcho {
            greeting: None,
            client_auth: false,
            once: false,
        },
        Protocol::Tcp,
    )
    .unwrap();
    let other_ca = rcgen::generate_simple_self_signed(vec!["x.example".into()]).unwrap();
    let files = ufs(&[("ca.pem", tls::CA_PEM), ("other.pem", &other_ca.cert.pem())]);
    let ctx = |cacert: &str| SslContext {
        seclevel: qsslcfg::SecurityLevel::ServerAuth,
        cacert: cacert.into(),
        ..SslContext::default()
    };
    let config = tls::client_config(&files, &ctx("other.pem")).unwrap();
    assert!(matches!(
        TlsClient::connect(addr, "192.0.2.2", config, PATIENCE, PATIENCE),
        Err(tls::ConnectError::Handshake(_))
    ));
    let config = tls::client_config(&files, &ctx("ca.pem")).unwrap();
    assert!(matches!(
        TlsClient::connect(addr, "not-named.example", config, PATIENCE, PATIENCE),
        Err(tls::ConnectError::Handshake(_))
    ));
    assert_eq!(
        tls::client_config(&files, &ctx("")).unwrap_err(),
        tls::ConfigError::NoCaCert
    );
    assert!(matches!(
        tls::client_config(&files, &ctx("missing.pem")).unwrap_err(),
        tls::ConfigError::MissingFile { .. }
    ));
}

#[test]
fn every_cipher_suite_value_connects_to_the_embedded_servers() {
    let addr = fcm242d_sim::services::started(
        &Service::TlsEcho {
            greeting: None,
            client_auth: false,
            once: false,
        },
        Protocol::Tcp,
    )
    .unwrap();
    let files = BTreeMap::new();
    for suite in qsslcfg::CipherSuites::ALL {
        for version in qsslcfg::ProtocolVersion::ALL {
            let ctx = SslContext {
                ciphersuite: *suite,
                version: *version,
                ..SslContext::default()
            };
            let config = tls::client_config(&files, &ctx).unwrap();
            let mut client = TlsClient::connect(addr, "192.0.2.2", config, PATIENCE, PATIENCE)
                .unwrap_or_else(|e| panic!("{suite:?} {version:?}: {e}"));
            if let Some(want) = tls::closest_suite(*suite) {
                assert_eq!(client.cipher_suite(), Some(want), "{suite:?}");
            }
            assert_eq!(echo_through(&mut client, b"x"), b"x");
            client.close();
        }
    }
}

#[test]
fn client_certificate_for_a_server_that_demands_one() {
    let addr = fcm242d_sim::services::started(
        &Service::TlsEcho {
            greeting: Some("hello".into()),
            client_auth: true,
            once: false,
        },
        Protocol::Tcp,
    )
    .unwrap();
    let files = ufs(&[
        ("ca.pem", tls::CA_PEM),
        ("user.pem", tls::CLIENT_CERT_PEM),
        ("user_key.pem", tls::CLIENT_KEY_PEM),
    ]);
    let with_identity = SslContext {
        seclevel: qsslcfg::SecurityLevel::MutualAuth,
        cacert: "ca.pem".into(),
        clientcert: "user.pem".into(),
        clientkey: "user_key.pem".into(),
        ..SslContext::default()
    };
    let config = tls::client_config(&files, &with_identity).unwrap();
    let mut client = TlsClient::connect(addr, "192.0.2.2", config, PATIENCE, PATIENCE).unwrap();
    let got = echo_through(&mut client, b"abc");
    assert!(got.starts_with(b"hel"), "{got:?}");
    // Without a certificate (seclevel 1) the server refuses the handshake.
    let without = SslContext {
        seclevel: qsslcfg::SecurityLevel::ServerAuth,
        ..with_identity
    };
    let config = tls::client_config(&files, &without).unwrap();
    assert!(TlsClient::connect(addr, "192.0.2.2", config, PATIENCE, PATIENCE).is_err());
}

// ------------------------------------------------------------------ the SSL group, through the client

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener};
use std::thread::JoinHandle;

use fcm242d::client::{Client, Error, Options};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    ato, escape, qfclose, qfopen, qfwrite, qigeterror, qiopen, qsslclose, qsslopen, qsslrecv,
    qsslsend, qsslstate, qstaapinfo,
};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Host, Int, Text};
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::{Endpoint, World};

/// A module behind a client, and the URCs seen so far.
struct Sim {
    client: Client<MemoryTransport>,
    seen: Vec<Urc>,
    handle: Option<JoinHandle<()>>,
}

impl Sim {
    /// A module in `world` that has not joined a network. The guard time
    /// is short (100 ms) so that `+++` is quick; the client keeps 150 ms.
    fn offline_in(world: World) -> Sim {
        fcm242d_sim::catalog::catalog();
        let (link, handle) = in_process(World {
            guard_time_ms: 100,
            ..world
        });
        let options = Options {
            guard_time: Duration::from_millis(150),
            ..Options::default()
        };
        Sim {
            client: Client::with_options(link, options),
            seen: Vec::new(),
            handle: Some(handle),
        }
    }

    /// A module in `world` joined to its access point.
    fn online_in(world: World) -> Sim {
        let mut sim = Sim::offline_in(world);
        sim.client
            .send(&qstaapinfo::Write {
                ssid: Text::new("sim-ap").unwrap(),
                pwd: Some(Text::new("sim-password").unwrap()),
            })
            .unwrap();
        sim.settle(Duration::from_millis(300));
        sim.seen.clear();
        sim
    }

    /// Online in the default world, except that 192.0.2.2:8010 echoes
    /// every message (the default world's answers only the first, as the
    /// manual's server did).
    fn online() -> Sim {
        Sim::online_in(world_with(
            8010,
            Service::TlsEcho {
                greeting: None,
                client_auth: false,
                once: false,
            },
        ))
    }

    /// Collects URCs for `wait`.
    fn settle(&mut self, wait: Duration) {
        let got = self.client.poll_urcs(wait).unwrap();
        self.seen
            .extend(got.into_iter().filter_map(Notice::into_urc));
    }

    /// Waits for the first URC `f` picks, and removes it from `seen`.
    fn wait_for<T>(&mut self, what: &str, f: impl Fn(&Urc) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.seen.extend(
                self.client
                    .take_urcs()
                    .into_iter()
                    .filter_map(Notice::into_urc),
            );
            if let Some(i) = self.seen.iter().position(|u| f(u).is_some()) {
                let u = self.seen.remove(i);
                return f(&u).unwrap();
            }
            assert!(Instant::now() < deadline, "no {what}; seen {:?}", self.seen);
            let got = self.client.poll_urcs(Duration::from_millis(20)).unwrap();
            self.seen
                .extend(got.into_iter().filter_map(Notice::into_urc));
        }
    }

    fn count(&mut self, f: impl Fn(&Urc) -> bool) -> usize {
        self.seen.extend(
            self.client
                .take_urcs()
                .into_iter()
                .filter_map(Notice::into_urc),
        );
        self.seen.iter().filter(|u| f(u)).count()
    }

    /// Writes a file into the UFS (QFOPEN, QFWRITE, QFCLOSE).
    fn put_file(&mut self, name: &str, data: &[u8]) {
        let r = self
            .client
            .send(&qfopen::Write {
                filename: Text::new(name).unwrap(),
                mode: None,
            })
            .unwrap();
        let fh = r.lines[0].filehandle;
        let r = self
            .client
            .send_payload(
                &qfwrite::Write {
                    filehandle: fh,
                    length_group: Some(qfwrite::WriteLengthGroup {
                        length: Int::new(data.len() as i64).unwrap(),
                        timeout: None,
                    }),
                },
                data,
            )
            .unwrap();
        assert_eq!(r.lines[0].written_length, data.len() as i64);
        self.client
            .send(&qfclose::Write { filehandle: fh })
            .unwrap();
    }

    /// Sends a configuration command, expecting `OK`.
    fn ok<C: fcm242d::command::Payloadless>(&mut self, cmd: &C) {
        let r = self.client.send(cmd).unwrap();
        assert_eq!(r.result, Final::Ok);
    }

    /// `AT+QSSLOPEN` in access mode 0 or 1, returning the `<err>` of its `+QSSLOPEN`.
    fn open(&mut self, ctx: i64, id: i64, host: &str, port: u16, mode: i64) -> TcpipCode {
        let r = self
            .client
            .send(&open_cmd(ctx, id, host, port, mode))
            .unwrap();
        match r.completion {
            Some(Urc::Qsslopen(o)) => {
                assert_eq!(o.connect_id.get(), id);
                o.err
            }
            other => panic!("no +QSSLOPEN: {other:?}"),
        }
    }

    /// `AT+QSSLSEND=<id>,<len>`.
    fn send(&mut self, id: i64, data: &[u8]) -> Result<Final, Error> {
        self.client
            .send_payload(
                &qsslsend::WriteConnectIdSendLength {
                    connect_id: cid(id),
                    send_length: Int::new(data.len() as i64).unwrap(),
                },
                data,
            )
            .map(|r| r.result)
    }

    /// `AT+QSSLSEND=<id>`, ended by Ctrl+Z.
    fn send_ctrl_z(&mut self, id: i64, data: &[u8]) -> Result<Final, Error> {
        self.client
            .send_payload(
                &qsslsend::WriteConnectId {
                    connect_id: cid(id),
                },
                data,
            )
            .map(|r| r.result)
    }

    /// `AT+QSSLRECV=<id>,<len>`: the data (empty for `+QSSLRECV: 0`).
    fn recv(&mut self, id: i64, len: i64) -> Result<Vec<u8>, Error> {
        let r = self.client.send(&qsslrecv::Write {
            connect_id: cid(id),
            read_length: Int::new(len).unwrap(),
        })?;
        Ok(match r.lines.as_slice() {
            [qsslrecv::WriteLine::Received(l)] if l.have_readlen > 0 => {
                let data = r.data.first().cloned().unwrap_or_default();
                assert_eq!(data.len() as i64, l.have_readlen);
                data
            }
            [qsslrecv::WriteLine::Received(_)] | [qsslrecv::WriteLine::NoData(_)] => Vec::new(),
            other => panic!("QSSLRECV lines: {other:?}"),
        })
    }

    /// Reads until `want` bytes came.
    fn recv_exactly(&mut self, id: i64, want: usize) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < want {
            let d = self.recv(id, 1500).unwrap();
            if d.is_empty() {
                assert!(Instant::now() < deadline, "got {} of {want}", got.len());
                self.settle(Duration::from_millis(5));
            }
            got.extend(d);
        }
        got
    }

    /// Collects direct-push data of connection `id` until `want` bytes came.
    fn pushed(&mut self, id: i64, want: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < want {
            got.extend(self.wait_for("+QSSLURC: \"recv\",<id>,<len>", |u| match u {
                Urc::QsslurcRecvDirectPush(p) if p.connect_id.get() == id => {
                    assert_eq!(p.data.len() as i64, p.current_recvlength);
                    Some(p.data.clone())
                }
                _ => None,
            }));
        }
        got
    }

    fn last_error(&mut self) -> TcpipCode {
        self.client.send(&qigeterror::Execute {}).unwrap().lines[0].err
    }

    fn state_of(&mut self, id: i64) -> Result<qsslstate::WriteLine, Error> {
        self.client
            .send(&qsslstate::Write {
                query_type: qsslstate::QueryType::Connection,
                connect_id: cid(id),
            })
            .map(|r| r.lines[0].clone())
    }

    fn close(&mut self, id: i64) -> Result<(), Error> {
        self.client
            .send(&qsslclose::Write {
                connect_id: cid(id),
                close_timeout: None,
            })
            .map(|_| ())
    }

    /// Reads transparent data until `want` bytes came.
    fn read_transparent(&mut self, want: usize) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < want {
            assert!(Instant::now() < deadline, "only {} bytes", got.len());
            got.extend(
                self.client
                    .read_transparent(Duration::from_millis(100))
                    .unwrap(),
            );
        }
        got
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Dropping the link stops the module; wait for it when the test passed.
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                let (link, _) = MemoryTransport::pair();
                drop(std::mem::replace(&mut self.client, Client::new(link)));
                let _ = h.join();
            }
        }
    }
}

fn cid(id: i64) -> Int<0, 11> {
    Int::new(id).unwrap()
}

fn ctx_id(id: i64) -> Int<0, 5> {
    Int::new(id).unwrap()
}

fn open_cmd(ctx: i64, id: i64, host: &str, port: u16, mode: i64) -> qsslopen::Write {
    qsslopen::Write {
        ssl_ctx_id: ctx_id(ctx),
        connect_id: cid(id),
        server_address: Host::new(host).unwrap(),
        server_port: port.into(),
        access_mode: Some(match mode {
            0 => qsslopen::AccessMode::Buffer,
            1 => qsslopen::AccessMode::DirectPush,
            _ => qsslopen::AccessMode::Transparent,
        }),
    }
}

/// Bytes of every value, in an order that is not a simple cycle.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 512 < 256 {
                // Every byte value appears in each 512-byte block.
                (i % 256) as u8
            } else {
                (x >> 24) as u8
            }
        })
        .collect()
}

/// What a test-local TLS server does with one connection.
type Behaviour = fn(&mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>);

/// A rustls server on a loopback port (0: the OS picks) with the test
/// PKI, running `behaviour` for each connection.
fn local_server(client_auth: bool, behaviour: Behaviour) -> u16 {
    local_server_with(tls::server_config(client_auth).unwrap(), behaviour)
}

fn local_server_with(config: Arc<rustls::ServerConfig>, behaviour: Behaviour) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                stream.set_read_timeout(Some(PATIENCE * 6)).unwrap();
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                behaviour(&mut tls);
            });
        }
    });
    port
}

/// Echoes every byte.
fn echo(s: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).and_then(|_| s.flush()).is_err() {
            return;
        }
    }
}

/// Echoes the first message only, then reads and drops the rest (the
/// manual's SSL examples send two messages and get one answer).
fn reply_once(s: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>) {
    let mut buf = [0u8; 16 * 1024];
    let Ok(n) = s.read(&mut buf) else { return };
    if n == 0 || s.write_all(&buf[..n]).and_then(|_| s.flush()).is_err() {
        return;
    }
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// Sends "bye" and closes the connection.
fn say_bye(s: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>) {
    let mut buf = [0u8; 64];
    // Wait for the client's first bytes, so the close comes when the test expects it.
    let _ = s.read(&mut buf);
    let _ = s.write_all(b"bye");
    s.conn.send_close_notify();
    let _ = s.flush();
}

// ------------------------------------------------------------------ QSSLCFG

#[test]
fn every_qsslcfg_subcommand_sets_and_queries_each_context() {
    let mut sim = Sim::offline_in(World::default());
    for n in 0..6 {
        let id = ctx_id(n);
        // The defaults.
        let r = sim
            .client
            .send(&qsslcfg::Sslversion {
                ssl_ctx_id: id,
                ssl_version: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].ssl_version, qsslcfg::ProtocolVersion::All);
        let r = sim
            .client
            .send(&qsslcfg::Seclevel {
                ssl_ctx_id: id,
                seclevel: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].seclevel, qsslcfg::SecurityLevel::NoAuth);
        let r = sim
            .client
            .send(&qsslcfg::Ciphersuite {
                ssl_ctx_id: id,
                cipher_suites: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].cipher_suites, qsslcfg::CipherSuites::All);
        let r = sim
            .client
            .send(&qsslcfg::Negotiatetime {
                ssl_ctx_id: id,
                negotiate_time: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].negotiate_time.get(), 300);
        let r = sim
            .client
            .send(&qsslcfg::Sni {
                ssl_ctx_id: id,
                sni: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].sni, qsslcfg::Enable::Disable);
        let r = sim
            .client
            .send(&qsslcfg::Cacert {
                ssl_ctx_id: id,
                cacertpath: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].cacertpath, "");
        let r = sim
            .client
            .send(&qsslcfg::Clientcert {
                ssl_ctx_id: id,
                client_cert_path: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].client_cert_path, "");
        let r = sim
            .client
            .send(&qsslcfg::Clientkey {
                ssl_ctx_id: id,
                client_key_path_group: None,
            })
            .unwrap();
        assert_eq!(
            (
                r.lines[0].client_key_path.as_str(),
                r.lines[0].key_pwd.as_str()
            ),
            ("", "")
        );
        let r = sim
            .client
            .send(&qsslcfg::Ignorelocaltime {
                ssl_ctx_id: id,
                ignore_ltime: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].ignore_ltime, qsslcfg::IgnoreLtime::Check);
        let r = sim
            .client
            .send(&qsslcfg::SessionCache {
                ssl_ctx_id: id,
                session_cache_enable: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].session_cache_enable, qsslcfg::Enable::Disable);
    }
    // Every value of every sub-command, in context 3; the others keep theirs.
    let id = ctx_id(3);
    for v in qsslcfg::ProtocolVersion::ALL {
        sim.ok(&qsslcfg::Sslversion {
            ssl_ctx_id: id,
            ssl_version: Some(*v),
        });
        let r = sim
            .client
            .send(&qsslcfg::Sslversion {
                ssl_ctx_id: id,
                ssl_version: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].ssl_version, *v);
        assert_eq!(r.lines[0].ssl_ctx_id, id);
    }
    for v in qsslcfg::SecurityLevel::ALL {
        sim.ok(&qsslcfg::Seclevel {
            ssl_ctx_id: id,
            seclevel: Some(*v),
        });
        let r = sim
            .client
            .send(&qsslcfg::Seclevel {
                ssl_ctx_id: id,
                seclevel: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].seclevel, *v);
    }
    for v in qsslcfg::CipherSuites::ALL {
        sim.ok(&qsslcfg::Ciphersuite {
            ssl_ctx_id: id,
            cipher_suites: Some(*v),
        });
        let r = sim
            .client
            .send(&qsslcfg::Ciphersuite {
                ssl_ctx_id: id,
                cipher_suites: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].cipher_suites, *v);
    }
    for v in [10, 11, 150, 299, 300] {
        sim.ok(&qsslcfg::Negotiatetime {
            ssl_ctx_id: id,
            negotiate_time: Some(Int::new(v).unwrap()),
        });
        let r = sim
            .client
            .send(&qsslcfg::Negotiatetime {
                ssl_ctx_id: id,
                negotiate_time: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].negotiate_time.get(), v);
    }
    for v in qsslcfg::Enable::ALL {
        sim.ok(&qsslcfg::Sni {
            ssl_ctx_id: id,
            sni: Some(*v),
        });
        let r = sim
            .client
            .send(&qsslcfg::Sni {
                ssl_ctx_id: id,
                sni: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].sni, *v);
    }
    sim.ok(&qsslcfg::Cacert {
        ssl_ctx_id: id,
        cacertpath: Some(Text::new("ca.pem").unwrap()),
    });
    let r = sim
        .client
        .send(&qsslcfg::Cacert {
            ssl_ctx_id: id,
            cacertpath: None,
        })
        .unwrap();
    assert_eq!(r.lines[0].cacertpath, "ca.pem");
    sim.ok(&qsslcfg::Clientcert {
        ssl_ctx_id: id,
        client_cert_path: Some(Text::new("user.pem").unwrap()),
    });
    let r = sim
        .client
        .send(&qsslcfg::Clientcert {
            ssl_ctx_id: id,
            client_cert_path: None,
        })
        .unwrap();
    assert_eq!(r.lines[0].client_cert_path, "user.pem");
    sim.ok(&qsslcfg::Clientkey {
        ssl_ctx_id: id,
        client_key_path_group: Some(qsslcfg::ClientkeyClientKeyPathGroup {
            client_key_path: Text::new("user_key.pem").unwrap(),
            key_pwd: Some(Text::new("secret").unwrap()),
        }),
    });
    let r = sim
        .client
        .send(&qsslcfg::Clientkey {
            ssl_ctx_id: id,
            client_key_path_group: None,
        })
        .unwrap();
    assert_eq!(
        (
            r.lines[0].client_key_path.as_str(),
            r.lines[0].key_pwd.as_str()
        ),
        ("user_key.pem", "secret")
    );
    // The key alone (as in the manual's example) has no password.
    sim.ok(&qsslcfg::Clientkey {
        ssl_ctx_id: id,
        client_key_path_group: Some(qsslcfg::ClientkeyClientKeyPathGroup {
            client_key_path: Text::new("k2.pem").unwrap(),
            key_pwd: None,
        }),
    });
    let r = sim
        .client
        .send(&qsslcfg::Clientkey {
            ssl_ctx_id: id,
            client_key_path_group: None,
        })
        .unwrap();
    assert_eq!(
        (
            r.lines[0].client_key_path.as_str(),
            r.lines[0].key_pwd.as_str()
        ),
        ("k2.pem", "")
    );
    for v in qsslcfg::IgnoreLtime::ALL {
        sim.ok(&qsslcfg::Ignorelocaltime {
            ssl_ctx_id: id,
            ignore_ltime: Some(*v),
        });
        let r = sim
            .client
            .send(&qsslcfg::Ignorelocaltime {
                ssl_ctx_id: id,
                ignore_ltime: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].ignore_ltime, *v);
    }
    for v in qsslcfg::Enable::ALL {
        sim.ok(&qsslcfg::SessionCache {
            ssl_ctx_id: id,
            session_cache_enable: Some(*v),
        });
        let r = sim
            .client
            .send(&qsslcfg::SessionCache {
                ssl_ctx_id: id,
                session_cache_enable: None,
            })
            .unwrap();
        assert_eq!(r.lines[0].session_cache_enable, *v);
    }
    // Context 2 kept its defaults.
    let r = sim
        .client
        .send(&qsslcfg::Cacert {
            ssl_ctx_id: ctx_id(2),
            cacertpath: None,
        })
        .unwrap();
    assert_eq!(r.lines[0].cacertpath, "");
    // Values outside the catalogue's ranges are refused.
    for bad in [
        "AT+QSSLCFG=\"sslversion\",6,1",
        "AT+QSSLCFG=\"sslversion\",1,5",
        "AT+QSSLCFG=\"negotiatetime\",1,9",
        "AT+QSSLCFG=\"negotiatetime\",1,301",
        "AT+QSSLCFG=\"ciphersuite\",1,0x1234",
        "AT+QSSLCFG=\"seclevel\",1,3",
    ] {
        let mut m = fcm242d_sim::module::Module::new(World::default());
        let out = m.input(format!("{bad}\r").as_bytes(), Instant::now());
        assert_eq!(out, b"\r\nERROR\r\n", "{bad}");
    }
}

// ------------------------------------------------------------------ buffer access mode

#[test]
fn buffer_mode_against_the_embedded_tls_echo() {
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 4, "192.0.2.2", 8010, 0), TcpipCode::Success);
    assert_eq!(sim.last_error(), TcpipCode::Success);
    let s = sim.state_of(4).unwrap();
    assert_eq!(
        (
            s.ip_address.as_str(),
            s.remote_port.get(),
            s.socket_state,
            s.server_id,
            s.access_mode,
            s.ssl_ctx_id.get()
        ),
        (
            "192.0.2.2",
            8010,
            qsslstate::SocketState::Connected,
            4,
            qsslstate::AccessMode::Buffer,
            1
        )
    );
    assert!(s.local_port.get() > 0);
    assert_eq!(
        sim.send_ctrl_z(4, b"Test data from SSL").unwrap(),
        Final::SendOk
    );
    sim.wait_for("+QSSLURC: \"recv\",4", |u| {
        matches!(u, Urc::QsslurcRecvBuffer(r) if r.connect_id.get() == 4).then_some(())
    });
    assert_eq!(sim.send(4, b"Test data from SSL").unwrap(), Final::SendOk);
    let got = sim.recv_exactly(4, 36);
    assert_eq!(got, b"Test data from SSLTest data from SSL");
    assert_eq!(sim.recv(4, 1500).unwrap(), b"");
    // (A URC of the second echo, if the first was read before it came.)
    sim.count(|_| true);
    sim.seen.clear();
    // Drained: the next data brings the URC again.
    assert_eq!(sim.send(4, b"again").unwrap(), Final::SendOk);
    sim.wait_for("+QSSLURC: \"recv\",4", |u| {
        matches!(u, Urc::QsslurcRecvBuffer(r) if r.connect_id.get() == 4).then_some(())
    });
    // A read of 2 takes 2.
    assert_eq!(sim.recv(4, 2).unwrap(), b"ag");
    assert_eq!(sim.recv_exactly(4, 3), b"ain");
    sim.close(4).unwrap();
    assert!(sim.state_of(4).is_err());
    assert_eq!(sim.last_error(), TcpipCode::InvalidParameters);
    assert!(sim
        .client
        .send(&qsslstate::Execute {})
        .unwrap()
        .lines
        .is_empty());
}

#[test]
fn buffer_mode_against_a_local_server_by_name_and_address() {
    let port = local_server(false, echo);
    let mut sim = Sim::online();
    assert_eq!(sim.open(0, 0, "127.0.0.1", port, 0), TcpipCode::Success);
    assert_eq!(sim.open(5, 11, "localhost", port, 0), TcpipCode::Success);
    for id in [0, 11] {
        let data = pattern(3000, id as u32);
        for chunk in data.chunks(1460) {
            assert_eq!(sim.send(id, chunk).unwrap(), Final::SendOk);
        }
        assert_eq!(sim.recv_exactly(id, data.len()), data);
    }
    let all = sim.client.send(&qsslstate::Read {}).unwrap().lines;
    assert_eq!(
        all.iter()
            .map(|l| (l.connect_id.get(), l.ssl_ctx_id.get()))
            .collect::<Vec<_>>(),
        vec![(0, 0), (11, 5)]
    );
    assert!(all
        .iter()
        .all(|l| l.ip_address == "127.0.0.1" && l.remote_port.get() == i64::from(port)));
    // By context: query type 0.
    let by_ctx = |sim: &mut Sim, n: i64| {
        sim.client
            .send(&qsslstate::Write {
                query_type: qsslstate::QueryType::Context,
                connect_id: cid(n),
            })
            .unwrap()
            .lines
            .iter()
            .map(|l| l.connect_id.get())
            .collect::<Vec<_>>()
    };
    assert_eq!(by_ctx(&mut sim, 5), vec![11]);
    assert_eq!(by_ctx(&mut sim, 0), vec![0]);
    assert!(by_ctx(&mut sim, 3).is_empty());
    sim.close(0).unwrap();
    sim.close(11).unwrap();
}

#[test]
fn send_forms_limits_and_errors() {
    let port = local_server(false, echo);
    let mut sim = Sim::online();
    // No connection.
    assert!(matches!(sim.send(3, b"x"), Err(Error::Error { .. })));
    assert_eq!(sim.last_error(), TcpipCode::InvalidParameters);
    assert!(matches!(sim.recv(3, 10), Err(Error::Error { .. })));
    assert!(matches!(sim.close(3), Err(Error::Error { .. })));
    assert_eq!(sim.open(1, 3, "127.0.0.1", port, 0), TcpipCode::Success);
    // The largest payload, both forms.
    let big = pattern(1460, 7);
    assert_eq!(sim.send(3, &big).unwrap(), Final::SendOk);
    assert_eq!(sim.recv_exactly(3, 1460), big);
    let text: Vec<u8> = big.iter().map(|b| b'a' + b % 26).collect();
    assert_eq!(sim.send_ctrl_z(3, &text).unwrap(), Final::SendOk);
    assert_eq!(sim.recv_exactly(3, 1460), text);
    // Esc cancels; too long or empty Ctrl+Z payloads are refused: on the wire.
    let mut m = WireSim::online(World::default());
    m.cmd(
        &format!("AT+QSSLOPEN=1,3,\"127.0.0.1\",{port},0"),
        "\r\nOK\r\n",
    );
    m.urc("+QSSLOPEN: 3,0");
    m.cmd("AT+QSSLSEND=3", "\r\n> ");
    m.cmd_raw(b"abc\x1b", "\r\nERROR\r\n");
    m.cmd(
        "AT+QIGETERROR",
        "\r\n+QIGETERROR: 568,\"Cancel sending\"\r\n\r\nOK\r\n",
    );
    m.cmd("AT+QSSLSEND=3", "\r\n> ");
    m.cmd_raw(
        &[b'x'; 1461]
            .iter()
            .copied()
            .chain([0x1a])
            .collect::<Vec<_>>(),
        "\r\nERROR\r\n",
    );
    m.cmd("AT+QSSLSEND=3", "\r\n> ");
    m.cmd_raw(b"\x1a", "\r\nERROR\r\n");
    m.cmd(
        "AT+QIGETERROR",
        "\r\n+QIGETERROR: 552,\"Invalid parameters\"\r\n\r\nOK\r\n",
    );
    m.cmd("AT+QSSLSEND=3,1461", "\r\nERROR\r\n");
    m.cmd("AT+QSSLSEND=3,0", "\r\nERROR\r\n");
    m.cmd("AT+QSSLRECV=3,0", "\r\nERROR\r\n");
    m.cmd("AT+QSSLRECV=3,1501", "\r\nERROR\r\n");
    m.cmd("AT+QSSLSEND=3,3", "\r\n> ");
    m.cmd_raw(b"xyz", "\r\nSEND OK\r\n");
    m.urc("+QSSLURC: \"recv\",3");
    m.cmd(
        "AT+QSSLRECV=3,1500",
        "\r\n+QSSLRECV: 3\r\nxyz\r\n\r\nOK\r\n",
    );
    m.cmd("AT+QSSLRECV=3,1500", "\r\n+QSSLRECV: 0\r\n\r\nOK\r\n");
    m.cmd("AT+QSSLCLOSE=3,0", "\r\nOK\r\n");
}

#[test]
fn the_send_queue_overflows_with_send_fail() {
    // A server that never reads: the module's queue fills up.
    let port = local_server(false, |s| {
        let mut one = [0u8; 1];
        let _ = s.read(&mut one);
        std::thread::sleep(PATIENCE);
    });
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 2, "127.0.0.1", port, 0), TcpipCode::Success);
    let chunk = pattern(1460, 3);
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "no SEND FAIL");
        match sim.send(2, &chunk) {
            Ok(Final::SendOk) => {}
            Err(Error::SendFail) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sim.last_error(), TcpipCode::Busy);
    sim.close(2).unwrap();
}

#[test]
fn connect_ids_are_shared_with_socket_services() {
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 4, "192.0.2.2", 8010, 0), TcpipCode::Success);
    // The same ID again, and a TCP socket on it.
    assert_eq!(
        sim.open(1, 4, "192.0.2.2", 8010, 0),
        TcpipCode::SocketIdInUse
    );
    let r = sim
        .client
        .send(&qiopen::Write {
            connect_id: cid(4),
            service_type: qiopen::ServiceType::Tcp,
            ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
                "192.0.2.2".parse().unwrap(),
            ),
            remote_port: Int::new(8009).unwrap(),
            local_port_group: None,
        })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qiopen(o)) if o.err == TcpipCode::SocketIdInUse));
    // A TCP socket's ID cannot be used for SSL either.
    let r = sim
        .client
        .send(&qiopen::Write {
            connect_id: cid(5),
            service_type: qiopen::ServiceType::Tcp,
            ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
                "192.0.2.2".parse().unwrap(),
            ),
            remote_port: Int::new(8009).unwrap(),
            local_port_group: None,
        })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qiopen(o)) if o.err == TcpipCode::Success));
    assert_eq!(
        sim.open(1, 5, "192.0.2.2", 8010, 0),
        TcpipCode::SocketIdInUse
    );
    assert_eq!(sim.last_error(), TcpipCode::SocketIdInUse);
    sim.close(4).unwrap();
}

#[test]
fn open_failures_report_the_tcpip_codes() {
    let mut sim = Sim::offline_in(World::default());
    // No network: ERROR at once.
    assert!(matches!(
        sim.client.send(&open_cmd(1, 1, "192.0.2.2", 8010, 0)),
        Err(Error::Error { .. })
    ));
    assert_eq!(sim.last_error(), TcpipCode::NotAllowed);
    drop(sim);
    let mut sim = Sim::online();
    // Nothing listens: refused.
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    assert_eq!(
        sim.open(1, 1, "127.0.0.1", port, 0),
        TcpipCode::SocketConnectFailed
    );
    assert_eq!(sim.last_error(), TcpipCode::SocketConnectFailed);
    // A name the hosts table does not know.
    assert_eq!(
        sim.open(1, 1, "nowhere.invalid", 443, 0),
        TcpipCode::DnsFailed
    );
    // An address outside the simulated world.
    assert_eq!(
        sim.open(1, 1, "198.51.100.7", 443, 0),
        TcpipCode::SocketConnectFailed
    );
    // A plain TCP server: the handshake fails.
    assert_eq!(
        sim.open(1, 1, "192.0.2.2", 8009, 0),
        TcpipCode::SocketConnectFailed
    );
    // seclevel 1 without a CA file: the context cannot be used.
    sim.ok(&qsslcfg::Seclevel {
        ssl_ctx_id: ctx_id(1),
        seclevel: Some(qsslcfg::SecurityLevel::ServerAuth),
    });
    assert_eq!(
        sim.open(1, 1, "192.0.2.2", 8010, 0),
        TcpipCode::InvalidParameters
    );
    sim.ok(&qsslcfg::Cacert {
        ssl_ctx_id: ctx_id(1),
        cacertpath: Some(Text::new("missing.pem").unwrap()),
    });
    assert_eq!(
        sim.open(1, 1, "192.0.2.2", 8010, 0),
        TcpipCode::InvalidParameters
    );
    // Transparent mode: ERROR at once, with the code.
    assert!(matches!(
        sim.client.send(&open_cmd(0, 1, "127.0.0.1", port, 2)),
        Err(Error::Error { .. })
    ));
    assert_eq!(sim.last_error(), TcpipCode::SocketConnectFailed);
    assert!(sim
        .client
        .send(&qsslstate::Execute {})
        .unwrap()
        .lines
        .is_empty());
}

#[test]
fn a_handshake_that_never_ends_times_out_after_negotiatetime() {
    // A server that accepts and says nothing.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let keep = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(12));
        drop(held);
    });
    let mut sim = Sim::online();
    sim.ok(&qsslcfg::Negotiatetime {
        ssl_ctx_id: ctx_id(2),
        negotiate_time: Some(Int::new(10).unwrap()),
    });
    // The client may give up waiting for the completion before it comes;
    // then it arrives as a URC.
    let completion = sim
        .client
        .send(&open_cmd(2, 6, "127.0.0.1", port, 0))
        .ok()
        .and_then(|r| r.completion);
    sim.seen.extend(completion);
    let started = Instant::now();
    let err = loop {
        sim.seen.extend(
            sim.client
                .take_urcs()
                .into_iter()
                .filter_map(Notice::into_urc),
        );
        if let Some(e) = sim.seen.iter().find_map(|u| match u {
            Urc::Qsslopen(o) if o.connect_id.get() == 6 => Some(o.err),
            _ => None,
        }) {
            break e;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no +QSSLOPEN");
        let got = sim.client.poll_urcs(Duration::from_millis(100)).unwrap();
        sim.seen
            .extend(got.into_iter().filter_map(Notice::into_urc));
    };
    assert_eq!(err, TcpipCode::Timeout);
    drop(keep);
}

#[test]
fn the_server_closing_the_connection() {
    let port = local_server(false, say_bye);
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 7, "127.0.0.1", port, 0), TcpipCode::Success);
    assert_eq!(sim.send(7, b"hi").unwrap(), Final::SendOk);
    sim.wait_for("+QSSLURC: \"closed\",7", |u| {
        matches!(u, Urc::QsslurcClosed(c) if c.connect_id.get() == 7).then_some(())
    });
    assert_eq!(
        sim.state_of(7).unwrap().socket_state,
        qsslstate::SocketState::Closing
    );
    // What came before the close can still be read; sending cannot.
    assert_eq!(sim.recv_exactly(7, 3), b"bye");
    assert!(matches!(sim.send(7, b"x"), Err(Error::Error { .. })));
    assert_eq!(sim.last_error(), TcpipCode::SocketClosed);
    sim.close(7).unwrap();
    assert!(sim.state_of(7).is_err());
}

// ------------------------------------------------------------------ direct push mode

#[test]
fn push_mode_against_the_embedded_and_a_local_server() {
    let port = local_server(false, echo);
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 4, "192.0.2.2", 8011, 1), TcpipCode::Success);
    assert_eq!(sim.open(2, 5, "sim.example", port, 1), TcpipCode::Success);
    assert_eq!(
        sim.state_of(5).unwrap().access_mode,
        qsslstate::AccessMode::DirectPush
    );
    for id in [4, 5] {
        assert_eq!(
            sim.send_ctrl_z(id, b"Test data from SSL").unwrap(),
            Final::SendOk
        );
        assert_eq!(sim.pushed(id, 18), b"Test data from SSL");
    }
    // No QSSLRECV in push mode.
    assert!(matches!(sim.recv(4, 100), Err(Error::Error { .. })));
    assert_eq!(sim.last_error(), TcpipCode::NotAllowed);
    sim.close(4).unwrap();
    sim.close(5).unwrap();
}

// ------------------------------------------------------------------ transparent mode

#[test]
fn transparent_mode_escape_resume_and_no_carrier() {
    let mut sim = Sim::online();
    let r = sim
        .client
        .send(&open_cmd(1, 4, "192.0.2.2", 8010, 2))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    assert!(sim.client.is_transparent());
    let data = pattern(200_000, 9);
    sim.client.write_transparent(&data).unwrap();
    assert_eq!(sim.read_transparent(data.len()), data);
    // +++: command mode, the connection stays.
    assert_eq!(
        sim.client.send(&escape::Execute {}).unwrap().result,
        Final::Ok
    );
    let s = sim.state_of(4).unwrap();
    assert_eq!(
        (s.socket_state, s.access_mode),
        (
            qsslstate::SocketState::Connected,
            qsslstate::AccessMode::Transparent
        )
    );
    // ATO resumes.
    assert_eq!(
        sim.client.send(&ato::Execute {}).unwrap().result,
        Final::Connect
    );
    // A command is data now (ending in a byte that is not CR: the client
    // holds a CR back until it knows it does not start `NO CARRIER`).
    sim.client.write_transparent(b"ATI\r!").unwrap();
    assert_eq!(sim.read_transparent(5), b"ATI\r!");
    assert_eq!(
        sim.client.send(&escape::Execute {}).unwrap().result,
        Final::Ok
    );
    sim.close(4).unwrap();
    // A closed connection cannot be resumed.
    assert!(
        matches!(sim.client.send(&ato::Execute {}), Err(Error::NoCarrier))
            || !sim.client.is_transparent()
    );

    // The server ends the connection: NO CARRIER, command mode.
    let port = local_server(false, say_bye);
    let r = sim
        .client
        .send(&open_cmd(0, 2, "127.0.0.1", port, 2))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    sim.client.write_transparent(b"hello").unwrap();
    let deadline = Instant::now() + PATIENCE;
    let mut got = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "no NO CARRIER; got {got:?}");
        match sim.client.read_transparent(Duration::from_millis(100)) {
            // The client reports NO CARRIER only when no data came with it;
            // either way it leaves transparent mode.
            Ok(d) => {
                got.extend(d);
                if !sim.client.is_transparent() {
                    break;
                }
            }
            Err(Error::NoCarrier) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, b"bye");
    assert!(!sim.client.is_transparent());
    assert_eq!(
        sim.state_of(2).unwrap().socket_state,
        qsslstate::SocketState::Closing
    );
    sim.close(2).unwrap();
}

// ------------------------------------------------------------------ verification

#[test]
fn seclevel_1_with_the_ca_written_to_the_ufs() {
    let mut sim = Sim::online();
    sim.put_file("ca.pem", tls::CA_PEM.as_bytes());
    let other = rcgen::generate_simple_self_signed(vec!["192.0.2.2".into()]).unwrap();
    sim.put_file("other.pem", other.cert.pem().as_bytes());
    sim.ok(&qsslcfg::Seclevel {
        ssl_ctx_id: ctx_id(1),
        seclevel: Some(qsslcfg::SecurityLevel::ServerAuth),
    });
    sim.ok(&qsslcfg::Cacert {
        ssl_ctx_id: ctx_id(1),
        cacertpath: Some(Text::new("ca.pem").unwrap()),
    });
    assert_eq!(sim.open(1, 4, "192.0.2.2", 8010, 0), TcpipCode::Success);
    assert_eq!(
        sim.open(1, 5, "www.example.com", 8010, 0),
        TcpipCode::Success
    );
    // A wrong CA: the handshake fails.
    sim.ok(&qsslcfg::Cacert {
        ssl_ctx_id: ctx_id(1),
        cacertpath: Some(Text::new("other.pem").unwrap()),
    });
    assert_eq!(
        sim.open(1, 6, "192.0.2.2", 8010, 0),
        TcpipCode::SocketConnectFailed
    );
    assert_eq!(sim.last_error(), TcpipCode::SocketConnectFailed);
    assert!(sim.state_of(6).is_err());
    // seclevel 0 does not check.
    sim.ok(&qsslcfg::Seclevel {
        ssl_ctx_id: ctx_id(1),
        seclevel: Some(qsslcfg::SecurityLevel::NoAuth),
    });
    assert_eq!(sim.open(1, 6, "192.0.2.2", 8010, 0), TcpipCode::Success);
    for id in [4, 5, 6] {
        sim.close(id).unwrap();
    }
}

#[test]
fn ignorelocaltime_accepts_an_expired_certificate() {
    use rcgen::{date_time_ymd, CertificateParams, Issuer, KeyPair};
    let ca_key = KeyPair::from_pem(tls::CA_KEY_PEM).unwrap();
    // The committed CA's name, as the generator wrote it (the issuer of a
    // certificate is matched by name).
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(rcgen::DnType::OrganizationName, "fcm242d-sim test PKI");
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "fcm242d-sim test CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.not_before = date_time_ymd(2015, 1, 1);
    params.not_after = date_time_ymd(2020, 1, 1);
    let cert = params.signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    let port = local_server_with(Arc::new(config), echo);
    let mut sim = Sim::online();
    sim.put_file("ca.pem", tls::CA_PEM.as_bytes());
    sim.ok(&qsslcfg::Seclevel {
        ssl_ctx_id: ctx_id(0),
        seclevel: Some(qsslcfg::SecurityLevel::ServerAuth),
    });
    sim.ok(&qsslcfg::Cacert {
        ssl_ctx_id: ctx_id(0),
        cacertpath: Some(Text::new("ca.pem").unwrap()),
    });
    assert_eq!(
        sim.open(0, 1, "127.0.0.1", port, 0),
        TcpipCode::SocketConnectFailed
    );
    sim.ok(&qsslcfg::Ignorelocaltime {
        ssl_ctx_id: ctx_id(0),
        ignore_ltime: Some(qsslcfg::IgnoreLtime::Ignore),
    });
    assert_eq!(sim.open(0, 1, "127.0.0.1", port, 0), TcpipCode::Success);
    assert_eq!(sim.send(1, b"old").unwrap(), Final::SendOk);
    assert_eq!(sim.recv_exactly(1, 3), b"old");
    sim.close(1).unwrap();
}

#[test]
fn seclevel_2_against_a_server_that_demands_a_client_certificate() {
    let port = local_server(true, echo);
    let mut sim = Sim::online();
    sim.put_file("ca.pem", tls::CA_PEM.as_bytes());
    sim.put_file("user.pem", tls::CLIENT_CERT_PEM.as_bytes());
    sim.put_file("user_key.pem", tls::CLIENT_KEY_PEM.as_bytes());
    let ctx = ctx_id(2);
    sim.ok(&qsslcfg::Cacert {
        ssl_ctx_id: ctx,
        cacertpath: Some(Text::new("ca.pem").unwrap()),
    });
    sim.ok(&qsslcfg::Seclevel {
        ssl_ctx_id: ctx,
        seclevel: Some(qsslcfg::SecurityLevel::MutualAuth),
    });
    // No client certificate configured: the server refuses.
    assert_eq!(
        sim.open(2, 8, "127.0.0.1", port, 0),
        TcpipCode::SocketConnectFailed
    );
    sim.ok(&qsslcfg::Clientcert {
        ssl_ctx_id: ctx,
        client_cert_path: Some(Text::new("user.pem").unwrap()),
    });
    sim.ok(&qsslcfg::Clientkey {
        ssl_ctx_id: ctx,
        client_key_path_group: Some(qsslcfg::ClientkeyClientKeyPathGroup {
            client_key_path: Text::new("user_key.pem").unwrap(),
            key_pwd: None,
        }),
    });
    assert_eq!(sim.open(2, 8, "127.0.0.1", port, 0), TcpipCode::Success);
    assert_eq!(sim.send(8, b"mutual").unwrap(), Final::SendOk);
    assert_eq!(sim.recv_exactly(8, 6), b"mutual");
    // seclevel 1 does not present the certificate.
    sim.ok(&qsslcfg::Seclevel {
        ssl_ctx_id: ctx,
        seclevel: Some(qsslcfg::SecurityLevel::ServerAuth),
    });
    assert_eq!(
        sim.open(2, 9, "127.0.0.1", port, 0),
        TcpipCode::SocketConnectFailed
    );
    sim.close(8).unwrap();
}

// ------------------------------------------------------------------ data integrity

#[test]
fn megabytes_through_qsslsend_and_qsslrecv_arrive_intact() {
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 4, "192.0.2.2", 8010, 0), TcpipCode::Success);
    let data = pattern(2 * 1024 * 1024, 1);
    let mut got = Vec::with_capacity(data.len());
    let deadline = Instant::now() + Duration::from_secs(120);
    for chunk in data.chunks(1460) {
        assert_eq!(sim.send(4, chunk).unwrap(), Final::SendOk);
        // One read per send keeps the echo from filling the module's buffers.
        got.extend(sim.recv(4, 1500).unwrap());
        assert!(Instant::now() < deadline);
    }
    let rest = data.len() - got.len();
    got.extend(sim.recv_exactly(4, rest));
    assert!(got == data, "the bytes differ");
    sim.close(4).unwrap();
}

#[test]
fn megabytes_through_push_mode_arrive_intact() {
    let mut sim = Sim::online();
    assert_eq!(sim.open(1, 9, "192.0.2.2", 8010, 1), TcpipCode::Success);
    let data = pattern(1024 * 1024, 2);
    let mut got = Vec::with_capacity(data.len());
    for chunk in data.chunks(1460) {
        assert_eq!(sim.send(9, chunk).unwrap(), Final::SendOk);
        sim.seen.extend(
            sim.client
                .take_urcs()
                .into_iter()
                .filter_map(Notice::into_urc),
        );
        sim.seen.retain(|u| match u {
            Urc::QsslurcRecvDirectPush(p) if p.connect_id.get() == 9 => {
                assert_eq!(p.data.len() as i64, p.current_recvlength);
                got.extend_from_slice(&p.data);
                false
            }
            _ => true,
        });
    }
    let rest = data.len() - got.len();
    if rest > 0 {
        got.extend(sim.pushed(9, rest));
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the bytes differ");
    sim.close(9).unwrap();
}

// ------------------------------------------------------------------ the manual's examples, on the wire

use fcm242d_sim::module::Module;

/// A module driven directly, with a clock the test moves (the network is
/// real, so waiting for it takes real time too). Command answers come from
/// `input`, everything the network causes from `poll`, so the two never mix.
struct WireSim {
    m: Module,
    t0: Instant,
    ms: u64,
    /// Output of `poll` not yet matched.
    pool: Vec<u8>,
}

impl WireSim {
    fn online(world: World) -> WireSim {
        fcm242d_sim::catalog::catalog();
        let mut w = WireSim {
            m: Module::new(world),
            t0: Instant::now(),
            ms: 0,
            pool: Vec::new(),
        };
        w.cmd("AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"", "\r\nOK\r\n");
        w.ms += 1000;
        let now = w.now();
        assert!(!w.m.poll(now).is_empty());
        w
    }

    fn now(&self) -> Instant {
        self.t0 + Duration::from_millis(self.ms)
    }

    /// The answer to raw input; then a poll, as the serve loop does after
    /// input (its output goes to the pool).
    fn raw(&mut self, bytes: &[u8]) -> String {
        self.ms += 10;
        let now = self.now();
        let answer = String::from_utf8_lossy(&self.m.input(bytes, now)).into_owned();
        let out = self.m.poll(now);
        self.pool.extend(out);
        answer
    }

    /// Sends a command line, expecting `expect` as the whole answer.
    fn cmd(&mut self, line: &str, expect: &str) {
        let got = self.raw(format!("{line}\r").as_bytes());
        assert_eq!(got, expect, "{line}");
    }

    /// Sends raw bytes (a payload), expecting `expect` as the whole answer.
    fn cmd_raw(&mut self, bytes: &[u8], expect: &str) {
        let got = self.raw(bytes);
        assert_eq!(got, expect);
    }

    /// Polls until `text` is in what the network caused; removes it and
    /// everything before it.
    fn expect_output(&mut self, text: &[u8]) {
        let i = self.wait_output(text);
        self.pool.drain(..i + text.len());
    }

    /// Polls until `text` is in what the network caused; where it starts.
    fn wait_output(&mut self, text: &[u8]) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self.pool.windows(text.len()).position(|w| w == text) {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "no {:?} in {:?}",
                String::from_utf8_lossy(text),
                String::from_utf8_lossy(&self.pool)
            );
            std::thread::sleep(Duration::from_millis(2));
            self.ms += 10;
            let now = self.now();
            let out = self.m.poll(now);
            self.pool.extend(out);
        }
    }

    fn urc(&mut self, line: &str) {
        self.expect_output(format!("\r\n{line}\r\n").as_bytes());
    }

    /// `+++` with the world's guard time (1 s) of silence around it.
    fn escape(&mut self) {
        self.ms += 1100;
        assert_eq!(self.raw(b"+++"), "");
        self.ms += 1100;
        let now = self.now();
        let out = self.m.poll(now);
        self.pool.extend(out);
        self.expect_output(b"\r\nOK\r\n");
    }
}

/// The default world with the TCP endpoint `192.0.2.2:<port>` replaced.
fn world_with(port: u16, service: Service) -> World {
    let mut world = World::default();
    world
        .endpoints
        .retain(|e| !(e.port == port && e.protocol == Protocol::Tcp));
    world.endpoints.push(Endpoint {
        name: None,
        address: "192.0.2.2".into(),
        port,
        protocol: Protocol::Tcp,
        service,
    });
    world
}

/// 192.0.2.2:8010 and 8011 answer as the manual's servers did: the first
/// message is echoed, later ones get no answer (the examples send two
/// 18-byte messages and receive 18 bytes).
fn manual_world() -> World {
    let port = local_server(false, reply_once);
    let to = format!("127.0.0.1:{port}");
    let mut world = world_with(8010, Service::External { to: to.clone() });
    world
        .endpoints
        .retain(|e| !(e.port == 8011 && e.protocol == Protocol::Tcp));
    world.endpoints.push(Endpoint {
        name: None,
        address: "192.0.2.2".into(),
        port: 8011,
        protocol: Protocol::Tcp,
        service: Service::External { to },
    });
    world
}

/// The `+QSSLSTATE` line, whose `<local_port>` the OS chooses.
fn qsslstate_line(answer: &str, port: u16, mode: i64) {
    let prefix = format!("\r\n+QSSLSTATE: 4,\"SSLClient\",\"192.0.2.2\",{port},");
    let suffix = format!(",2,4,{mode},\"uart1\",1\r\n\r\nOK\r\n");
    let local = answer
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("{answer:?}"));
    assert!(local.parse::<u16>().is_ok_and(|p| p > 0), "{answer:?}");
}

/// Scenarios ssl_context_config, then ssl_client_buffer_access (which uses
/// the context the first configures: TLS1.0 and 0x0035 map to TLS 1.2 and
/// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, see `services::tls`).
#[test]
fn scenario_ssl_context_config_then_buffer_access() {
    let mut w = WireSim::online(manual_world());
    // ssl_context_config
    w.cmd("AT+QSSLCFG=\"sslversion\",1,1", "\r\nOK\r\n");
    w.cmd("AT+QSSLCFG=\"ciphersuite\",1,0x0035", "\r\nOK\r\n");
    w.cmd("AT+QSSLCFG=\"seclevel\",1,1", "\r\nOK\r\n");
    w.cmd("AT+QFOPEN=\"ca.pem\"", "\r\n+QFOPEN: 1\r\n\r\nOK\r\n");
    let n = tls::CA_PEM.len();
    w.cmd(&format!("AT+QFWRITE=1,{n}"), "\r\nCONNECT\r\n");
    w.cmd_raw(
        tls::CA_PEM.as_bytes(),
        &format!("\r\n+QFWRITE: {n},{n}\r\n\r\nOK\r\n"),
    );
    w.cmd("AT+QSSLCFG=\"cacert\",1,\"ca.pem\"", "\r\nOK\r\n");
    // ssl_client_buffer_access
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8010,0", "\r\nOK\r\n");
    w.urc("+QSSLOPEN: 4,0");
    let state = w.raw(b"AT+QSSLSTATE\r");
    qsslstate_line(&state, 8010, 0);
    w.cmd("AT+QSSLSEND=4", "\r\n> ");
    w.cmd_raw(b"Test data from SSL\x1a", "\r\nSEND OK\r\n");
    // The server answers the first message only: let it have it alone
    // (the URC is checked where the manual prints it).
    w.wait_output(b"+QSSLURC: \"recv\",4");
    w.cmd("AT+QSSLSEND=4,18", "\r\n> ");
    w.cmd_raw(b"Test data from SSL", "\r\nSEND OK\r\n");
    w.urc("+QSSLURC: \"recv\",4");
    w.cmd(
        "AT+QSSLRECV=4,1500",
        "\r\n+QSSLRECV: 18\r\nTest data from SSL\r\n\r\nOK\r\n",
    );
    w.cmd("AT+QSSLRECV=4,1500", "\r\n+QSSLRECV: 0\r\n\r\nOK\r\n");
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
}

#[test]
fn scenario_ssl_client_direct_push() {
    let mut w = WireSim::online(manual_world());
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8011,1", "\r\nOK\r\n");
    w.urc("+QSSLOPEN: 4,0");
    let state = w.raw(b"AT+QSSLSTATE\r");
    qsslstate_line(&state, 8011, 1);
    w.cmd("AT+QSSLSEND=4", "\r\n> ");
    w.cmd_raw(b"Test data from SSL\x1a", "\r\nSEND OK\r\n");
    // The server answers the first message only: let it have it alone
    // (the URC is checked where the manual prints it).
    w.wait_output(b"+QSSLURC: \"recv\",4");
    w.cmd("AT+QSSLSEND=4,18", "\r\n> ");
    w.cmd_raw(b"Test data from SSL", "\r\nSEND OK\r\n");
    w.expect_output(b"\r\n+QSSLURC: \"recv\",4,18\r\nTest data from SSL\r\n");
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
    assert!(w.pool.is_empty(), "{:?}", String::from_utf8_lossy(&w.pool));
}

/// Scenario ssl_client_transparent_send against the embedded 8011 (HTTPS,
/// which echoes what is not HTTP).
#[test]
fn scenario_ssl_client_transparent_send() {
    let mut w = WireSim::online(World::default());
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8011,2", "\r\nCONNECT\r\n");
    let tx = b"<data from the COM port; not printed by the manual>";
    assert_eq!(w.raw(tx), "");
    w.expect_output(tx);
    w.escape();
    // Not in the manual's example: the connection is still there.
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
}

/// Scenario ssl_client_transparent_receive: a server that sends
/// "<Received data>" when the connection opens.
#[test]
fn scenario_ssl_client_transparent_receive() {
    let world = world_with(
        8011,
        Service::TlsEcho {
            greeting: Some("<Received data>".into()),
            client_auth: false,
            once: false,
        },
    );
    let mut w = WireSim::online(world);
    w.cmd("AT+QSSLOPEN=1,4,\"192.0.2.2\",8011,2", "\r\nCONNECT\r\n");
    w.expect_output(b"<Received data>");
    assert!(w.pool.is_empty());
    w.escape();
    w.cmd("AT+QSSLCLOSE=4", "\r\nOK\r\n");
}

/// The transparent connection lost while the UART carries it: `NO
/// CARRIER`, and command mode again.
#[test]
fn no_carrier_on_the_wire() {
    let port = local_server(false, say_bye);
    let mut w = WireSim::online(World::default());
    w.cmd(
        &format!("AT+QSSLOPEN=0,2,\"127.0.0.1\",{port},2"),
        "\r\nCONNECT\r\n",
    );
    assert_eq!(w.raw(b"hello"), "");
    w.expect_output(b"bye\r\nNO CARRIER\r\n");
    let state = w.raw(b"AT+QSSLSTATE=1,2\r");
    let prefix = format!("\r\n+QSSLSTATE: 2,\"SSLClient\",\"127.0.0.1\",{port},");
    assert!(state.starts_with(&prefix), "{state:?}");
    assert!(
        state.ends_with(",4,2,2,\"uart1\",0\r\n\r\nOK\r\n"),
        "{state:?}"
    );
    w.cmd("AT+QSSLCLOSE=2", "\r\nOK\r\n");
}

/// `+QSSLURC: "recv",<id>` comes once until the buffer is read empty, with
/// the module's polls under the test's control.
#[test]
fn the_recv_urc_comes_once_until_the_buffer_is_empty() {
    let port = local_server(false, echo);
    let mut w = WireSim::online(World::default());
    w.cmd(
        &format!("AT+QSSLOPEN=3,1,\"localhost\",{port},0"),
        "\r\nOK\r\n",
    );
    w.urc("+QSSLOPEN: 1,0");
    let buffered = |w: &WireSim| {
        w.m.state()
            .ssl
            .connections
            .get(&1)
            .map_or(0, |c| c.rx.len())
    };
    w.cmd("AT+QSSLSEND=1,5", "\r\n> ");
    w.cmd_raw(b"first", "\r\nSEND OK\r\n");
    w.urc("+QSSLURC: \"recv\",1");
    w.cmd("AT+QSSLSEND=1,6", "\r\n> ");
    w.cmd_raw(b"second", "\r\nSEND OK\r\n");
    let deadline = Instant::now() + PATIENCE;
    while buffered(&w) < 11 {
        assert!(Instant::now() < deadline, "the echo did not come");
        std::thread::sleep(Duration::from_millis(2));
        w.ms += 10;
        let now = w.now();
        let out = w.m.poll(now);
        w.pool.extend(out);
    }
    // The second arrival printed nothing.
    assert!(w.pool.is_empty(), "{:?}", String::from_utf8_lossy(&w.pool));
    w.cmd("AT+QSSLRECV=1,4", "\r\n+QSSLRECV: 4\r\nfirs\r\n\r\nOK\r\n");
    w.cmd(
        "AT+QSSLRECV=1,1500",
        "\r\n+QSSLRECV: 7\r\ntsecond\r\n\r\nOK\r\n",
    );
    // Empty again: the next data brings the URC again.
    w.cmd("AT+QSSLSEND=1,5", "\r\n> ");
    w.cmd_raw(b"third", "\r\nSEND OK\r\n");
    w.urc("+QSSLURC: \"recv\",1");
    w.cmd(
        "AT+QSSLRECV=1,1500",
        "\r\n+QSSLRECV: 5\r\nthird\r\n\r\nOK\r\n",
    );
    w.cmd("AT+QSSLCLOSE=1", "\r\nOK\r\n");
}
