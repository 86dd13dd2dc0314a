//! A real HTTPS server for the tests, on 127.0.0.1 and a free port: TLS (rustls) with a
//! certificate made here (a CA of its own and a leaf for 127.0.0.1 signed by it), HTTP/2 and
//! HTTP/1.1 offered by ALPN (hyper), serving the files of a folder. Records the HTTP version of
//! every request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The running server; it stops with the test process.
pub struct TlsServer {
    pub addr: SocketAddr,
    /// The CA certificate (PEM) that signed the server's certificate.
    pub ca_pem: String,
    requests: Arc<Mutex<Vec<(Version, String)>>>,
}

impl TlsServer {
    /// Serves `root` over HTTPS.
    pub fn start(root: impl AsRef<Path>) -> TlsServer {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let root = root.as_ref().to_path_buf();
        crate::server_runtime().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, root, log) = (acceptor.clone(), root.clone(), log.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        let (root, log) = (root.clone(), log.clone());
                        async move { Ok::<_, std::convert::Infallible>(serve(&root, &log, request)) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer {
            addr,
            ca_pem: ca.pem(),
            requests,
        }
    }

    /// `https://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The HTTP version and path of every request so far.
    pub fn requests(&self) -> Vec<(Version, String)> {
        self.requests.lock().unwrap().clone()
    }

    /// Writes the CA certificate into `dir` and returns its path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

fn serve(
    root: &Path,
    log: &Mutex<Vec<(Version, String)>>,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    log.lock().unwrap().push((request.version(), path.clone()));
    let relative = path.trim_start_matches('/');
    let safe = !relative.is_empty() && relative.split('/').all(|c| !c.is_empty() && c != "..");
    match std::fs::read(root.join(relative)) {
        Ok(bytes) if safe => Response::new(Full::new(Bytes::from(bytes))),
        _ => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}
