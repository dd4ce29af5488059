//! A real `vpcsim serve` on a free port with its own database, for the serve tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Serve {
    pub child: Child,
    pub url: String,
    pub db: PathBuf,
    /// What the server printed when it was ready.
    pub banner: String,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Serve {
    /// Starts `vpcsim serve --no-auth` on `db` with extra arguments, and waits until it answers.
    pub fn start(db: &Path, extra: &[&str]) -> Serve {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
            .args([
                "serve",
                "--no-auth",
                "--listen",
                &listen,
                "--async-delay",
                "0.2",
                "--db",
            ])
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vpcsim serve");
        let mut banner = String::new();
        if let Some(out) = child.stdout.take() {
            use std::io::BufRead;
            let mut lines = std::io::BufReader::new(out).lines();
            if let Some(Ok(l)) = lines.next() {
                banner = l;
            }
        }
        let url = format!("http://{listen}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{url}/_vpcsim/health")).call().is_err() {
            assert!(
                Instant::now() < deadline,
                "vpcsim serve did not answer: {banner}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Serve {
            child,
            url,
            db: db.to_path_buf(),
            banner,
        }
    }

    /// `kill -9`: no chance to flush or clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// An EC2 Query call signed (scope only: the server runs with --no-auth) for `region`;
    /// the HTTP status and the answer parsed into a tree of elements.
    pub fn call(&self, service: &str, region: &str, pairs: &[(&str, &str)]) -> (u16, Xml) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        );
        let r = ureq::post(&format!("{}/", self.url))
            .set("Authorization", &auth)
            .send_form(pairs);
        let (status, text) = match r {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
            Err(e) => panic!("request failed: {e}"),
        };
        (status, Xml::parse(&text))
    }

    /// An EC2 call in us-east-1.
    pub fn ec2(&self, action: &str, params: &[(&str, &str)]) -> (u16, Xml) {
        let mut pairs = vec![("Action", action), ("Version", "2016-11-15")];
        pairs.extend_from_slice(params);
        self.call("ec2", "us-east-1", &pairs)
    }

    /// An EC2 call that must succeed.
    pub fn ok(&self, action: &str, params: &[(&str, &str)]) -> Xml {
        let (status, x) = self.ec2(action, params);
        assert_eq!(
            status,
            200,
            "{action}: {}",
            x.text("Message").unwrap_or_default()
        );
        x
    }

    /// An EC2 call that must fail with `code`.
    pub fn fails(&self, action: &str, params: &[(&str, &str)], code: &str) -> Xml {
        let (status, x) = self.ec2(action, params);
        assert!(status >= 400, "{action} succeeded, expected {code}");
        assert_eq!(x.text("Code").as_deref(), Some(code), "{action}");
        x
    }

    /// `POST /_vpcsim/trace`.
    pub fn trace(&self, flow: &str) -> Value {
        let body = serde_json::json!({"flow": flow}).to_string();
        let text = ureq::post(&format!("{}/_vpcsim/trace", self.url))
            .send_string(&body)
            .expect("trace")
            .into_string()
            .unwrap_or_default();
        serde_json::from_str(&text).expect("trace JSON")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An XML answer as a flat list of (element name, text) in document order: enough to read ids
/// and codes without matching on the text of the XML.
pub struct Xml {
    pub elements: Vec<(String, String)>,
}

impl Xml {
    pub fn parse(text: &str) -> Xml {
        let doc =
            roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("not XML ({e}): {text}"));
        let elements = doc
            .descendants()
            .filter(|n| n.is_element())
            .map(|n| {
                let text = if n.children().all(|c| c.is_text()) {
                    n.text().unwrap_or_default().to_string()
                } else {
                    String::new()
                };
                (n.tag_name().name().to_string(), text)
            })
            .collect();
        Xml { elements }
    }

    /// The text of the first element named `name`.
    pub fn text(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }

    /// The texts of every element named `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.elements
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .collect()
    }
}
