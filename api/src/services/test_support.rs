//! What the handlers' unit tests share: calls built in code, an allow-all authorizer, and XML
//! answers read back — with quick-xml as botocore's Query parser reads them (`member` lists), and,
//! when `VPCSIM_AWS_PYTHON` names a virtual environment with botocore, by botocore itself.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::call::{Call, Caller, CallerKind, Reply};
use crate::params::Params;
use crate::service::Service;

pub use crate::auth::AllowAll;

/// 2026-12-07T20:00:00Z, the tests' "now".
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_673_600)
}

/// A Query call of `service` in us-east-1 at `now`.
pub fn query_call(service: Service, action: &str, pairs: &[(&str, &str)], now: SystemTime) -> Call {
    let mut c = Call::new(
        service,
        action.to_string(),
        "us-east-1".into(),
        "123456789012".into(),
        "req-1".into(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        now,
        Caller {
            arn: "arn:aws:iam::123456789012:root".into(),
            principal_id: "123456789012".into(),
            access_key_id: "AKIAEXAMPLE".into(),
            kind: CallerKind::Root,
            tags: vec![],
        },
        Arc::new(AllowAll),
    );
    c.params = Params::from_pairs(pairs.iter().copied());
    c
}

/// The XML of a reply.
pub fn xml_of(r: &Reply) -> &str {
    match r {
        Reply::Xml(x) | Reply::XmlStatus(_, x) => x,
        Reply::Json(_) => panic!("a JSON reply"),
    }
}

/// An element being read: its name, children so far, and text so far.
type Open = (String, Vec<(String, Node)>, String);

enum Node {
    Text(String),
    Children(Vec<(String, Node)>),
}

fn to_value(n: Node) -> Value {
    match n {
        Node::Text(t) => Value::String(t),
        Node::Children(c) if !c.is_empty() && c.iter().all(|(k, _)| k == "member") => {
            Value::Array(c.into_iter().map(|(_, n)| to_value(n)).collect())
        }
        Node::Children(c) => {
            let mut m = Map::new();
            for (k, n) in c {
                m.insert(k, to_value(n));
            }
            Value::Object(m)
        }
    }
}

/// An XML document as JSON: element names as keys, `member` children as arrays, text as
/// strings (an empty element is `{}`). Panics on malformed XML.
pub fn xml_to_json(xml: &str) -> Value {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Open> = vec![(String::new(), Vec::new(), String::new())];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.local_name().as_ref().to_vec()).unwrap();
                stack.push((name, Vec::new(), String::new()));
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.local_name().as_ref().to_vec()).unwrap();
                stack
                    .last_mut()
                    .unwrap()
                    .1
                    .push((name, Node::Children(vec![])));
            }
            Event::Text(t) => {
                let text = t.unescape().expect("valid text").into_owned();
                stack.last_mut().unwrap().2.push_str(&text);
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop().unwrap();
                let node = if children.is_empty() && !text.is_empty() {
                    Node::Text(text)
                } else {
                    Node::Children(children)
                };
                stack.last_mut().unwrap().1.push((name, node));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (_, children, _) = stack.pop().unwrap();
    to_value(Node::Children(children))
}

/// botocore's own parse of a Query answer to `operation` of `service` (`elbv2`, `cloudwatch`),
/// as the JSON the CLI would print; `None` when `VPCSIM_AWS_PYTHON` is unset.
pub fn botocore_parse(service: &str, operation: &str, status: u16, body: &str) -> Option<Value> {
    botocore_parse_as("query", service, operation, status, body)
}

/// As [`botocore_parse`], with botocore's parser for `protocol` (`query`, `json`, `rest-xml`).
pub fn botocore_parse_as(
    protocol: &str,
    service: &str,
    operation: &str,
    status: u16,
    body: &str,
) -> Option<Value> {
    let Ok(venv) = std::env::var("VPCSIM_AWS_PYTHON") else {
        eprintln!("VPCSIM_AWS_PYTHON is unset: skipping the botocore parse");
        return None;
    };
    let script = r#"
import sys, json, botocore.session
from botocore import parsers
protocol, service, op, status = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
model = botocore.session.get_session().get_service_model(service)
opm = model.operation_model(op)
parser = parsers.create_parser(protocol)
body = sys.stdin.buffer.read()
out = parser.parse({'body': body, 'headers': {}, 'status_code': status}, opm.output_shape)
out.pop('ResponseMetadata', None)
print(json.dumps(out, default=str))
"#;
    // The variable names the environment's Python (as `.ci/run` sets it) or the environment.
    let venv = std::path::PathBuf::from(venv);
    let python = if venv.is_dir() {
        venv.join("bin").join("python")
    } else {
        venv
    };
    let mut child = std::process::Command::new(python)
        .args([
            "-c",
            script,
            protocol,
            service,
            operation,
            &status.to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the python of VPCSIM_AWS_PYTHON runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "botocore failed to parse {operation}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}
