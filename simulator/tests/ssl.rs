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
        },
        Protocol::Tcp,
    )
    .unwrap();
    let files = ufs(&[("ca.pem", tls::CA_PEM)]);
    for seclevel in qsslcfg::SeclevelValue::ALL {
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
        },
        Protocol::Tcp,
    )
    .unwrap();
    let other_ca = rcgen::generate_simple_self_signed(vec!["x.example".into()]).unwrap();
    let files = ufs(&[("ca.pem", tls::CA_PEM), ("other.pem", &other_ca.cert.pem())]);
    let ctx = |cacert: &str| SslContext {
        seclevel: qsslcfg::SeclevelValue::PerformServerAuthentication,
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
        },
        Protocol::Tcp,
    )
    .unwrap();
    let files = BTreeMap::new();
    for suite in qsslcfg::CipherSuites::ALL {
        for version in qsslcfg::SslVersion::ALL {
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
        seclevel: qsslcfg::SeclevelValue::PerformServerAndClient,
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
        seclevel: qsslcfg::SeclevelValue::PerformServerAuthentication,
        ..with_identity
    };
    let config = tls::client_config(&files, &without).unwrap();
    assert!(TlsClient::connect(addr, "192.0.2.2", config, PATIENCE, PATIENCE).is_err());
}
