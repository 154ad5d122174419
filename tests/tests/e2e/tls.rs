//! Mutual TLS on a server: with `--tls-cert`, `--tls-key` and `--tls-client-ca`, a client
//! that presents a certificate signed by that CA gets answers, over gRPC and over the query
//! service's HTTP routes; one without a certificate, or speaking plaintext, is refused. `paymentsctl` connects with `--tls-ca`, `--tls-cert` and
//! `--tls-key`. Certificates are made for the test with rcgen.

use crate::common;
use crate::common::pipeline::sqlite_url;

use common::services::ServiceProcess;
use payments_proto::v1 as pb;
use pb::query_service_client::QueryServiceClient;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in `dir`.
struct TestPki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn make_pki(dir: &Path) -> TestPki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "payments test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = |names: Vec<String>, common_name: &str, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        (
            params.signed_by(&key, &issuer).unwrap().pem(),
            key.serialize_pem(),
        )
    };
    let (server_cert, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        "payments-query",
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = leaf(vec![], "team-a", ExtendedKeyUsagePurpose::ClientAuth);
    let write = |name: &str, pem: &str| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    TestPki {
        ca: write("ca.pem", &ca_pem),
        server_cert: write("server.pem", &server_cert),
        server_key: write("server.key", &server_key),
        client_cert: write("client.pem", &client_cert),
        client_key: write("client.key", &client_key),
    }
}

async fn stats_over_tls(
    addr: std::net::SocketAddr,
    pki: &TestPki,
    with_client_certificate: bool,
) -> Result<pb::GetStatsResponse, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&pki.ca).unwrap()));
    if with_client_certificate {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(&pki.client_cert).unwrap(),
            std::fs::read(&pki.client_key).unwrap(),
        ));
    }
    let channel = Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    QueryServiceClient::new(channel)
        .get_stats(pb::GetStatsRequest { filter: None })
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| format!("{status:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    let dir = common::temp_dir("tls");
    let pki = make_pki(&dir);
    let sqlite = sqlite_url(&dir);
    let path = |p: &PathBuf| p.display().to_string();
    let query = ServiceProcess::start(
        "payments-query",
        &[
            "--store",
            &sqlite,
            "--tls-cert",
            &path(&pki.server_cert),
            "--tls-key",
            &path(&pki.server_key),
            "--tls-client-ca",
            &path(&pki.ca),
        ],
        &dir.join("query.log"),
    )
    .await;

    let stats = stats_over_tls(query.grpc, &pki, true).await;
    assert_eq!(stats.map(|s| s.total_count), Ok(0));
    assert!(
        stats_over_tls(query.grpc, &pki, false).await.is_err(),
        "a client without a certificate was served"
    );
    let plaintext = tonic::transport::Endpoint::from_shared(format!("http://{}", query.grpc))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plaintext {
        let refused = QueryServiceClient::new(channel)
            .get_stats(pb::GetStatsRequest { filter: None })
            .await;
        assert!(refused.is_err(), "a plaintext client was served");
    }

    let paymentsctl = |client_certificate: bool| {
        let mut command = std::process::Command::new(common::paymentsctl());
        command.args([
            "stats",
            "--server",
            &query.grpc.to_string(),
            "--tls-ca",
            &path(&pki.ca),
        ]);
        if client_certificate {
            command.args([
                "--tls-cert",
                &path(&pki.client_cert),
                "--tls-key",
                &path(&pki.client_key),
            ]);
        }
        command.output().unwrap()
    };
    let served = paymentsctl(true);
    assert!(served.status.success(), "{served:?}");
    assert!(!paymentsctl(false).status.success());

    // The HTTP port serves the same TLS: data routes need the client certificate, probes
    // (which the kubelet calls without one) do not, and plaintext gets no answer.
    assert!(query.https, "the query service's HTTP port must speak TLS");
    let (cert, key) = (
        std::fs::read(&pki.client_cert).unwrap(),
        std::fs::read(&pki.client_key).unwrap(),
    );
    let https = |path: &str, identity: bool| {
        let options = common::HttpOptions {
            https: true,
            bearer: None,
            client_identity: identity.then_some((cert.as_slice(), key.as_slice())),
        };
        common::http_with(query.http, "GET", path, None, options)
    };
    assert_eq!(https("/readyz", false).0, 200);
    let (status, body) = https("/v1/payments/NONE", false);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("client certificate"), "{body}");
    assert_eq!(https("/v1/payments/NONE", true).0, 404);
    let mut plain = std::net::TcpStream::connect(query.http).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    std::io::Write::write_all(
        &mut plain,
        b"GET /v1/payments/NONE HTTP/1.1\r\nhost: x\r\n\r\n",
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut plain, &mut answer);
    assert!(
        !answer.starts_with(b"HTTP/1.1"),
        "plaintext HTTP was answered: {}",
        String::from_utf8_lossy(&answer)
    );
}
