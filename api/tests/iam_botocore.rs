//! IAM, STS and CloudTrail as the SDKs see them: requests signed by botocore's SigV4 signer are
//! authenticated by vpcsim, and vpcsim's answers are parsed by botocore's own response parsers
//! (`api/tests/botocore_sdk.py`). Needs `VPCSIM_AWS_PYTHON` (a Python with botocore, set up by
//! `.ci/run`); skipped without it. The server that joins these pieces over HTTP is built
//! separately; these tests call the handlers and the traits directly.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{json, Value};
use vpcsim_api::auth::{ensure_root_credentials, PolicyAuthorizer, SigV4Authenticator};
use vpcsim_api::call::{Authenticator, Call, Caller, HttpRequest, Recorder, Reply};
use vpcsim_api::error::ApiError;
use vpcsim_api::params::Params;
use vpcsim_api::service::Service;
use vpcsim_api::store::Store;
use vpcsim_api::trail::CloudTrailRecorder;

const ACCT: &str = "123456789012";

fn python() -> Option<String> {
    match std::env::var("VPCSIM_AWS_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!("VPCSIM_AWS_PYTHON is not set: skipping the botocore checks");
            None
        }
    }
}

fn sdk(py: &str, job: Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_sdk.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the botocore helper");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), job.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "botocore helper failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

struct World {
    store: Arc<Store>,
    auth: SigV4Authenticator,
    py: String,
    /// `(service, operation, status, body)` of every answer, for botocore to parse.
    answers: Vec<Value>,
}

impl World {
    fn new(py: String) -> World {
        World {
            store: Arc::new(Store::open(None).unwrap()),
            auth: SigV4Authenticator {
                account: ACCT.into(),
            },
            py,
            answers: Vec::new(),
        }
    }

    /// Signs a Query request with botocore, authenticates it, runs the handler, records it.
    fn call(
        &mut self,
        key: (&str, &str, Option<&str>),
        service: Service,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, ApiError> {
        let mut form: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), service.api_version().into()),
        ];
        form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let signed = sdk(&self.py, json!({"sign": [{
            "service": service.signing_name(), "region": "us-east-1", "key": key.0, "secret": key.1,
            "token": key.2, "method": "POST", "url": "http://127.0.0.1:4566/", "body": body,
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        }]}))["signed"][0]
            .clone();
        let headers: Vec<(String, String)> =
            serde_json::from_value(signed["headers"].clone()).unwrap();
        let req = HttpRequest {
            method: signed["method"].as_str().unwrap(),
            path: signed["path"].as_str().unwrap(),
            query: signed["query"].as_str().unwrap(),
            headers: &headers,
            body: signed["body"].as_str().unwrap().as_bytes(),
        };
        let who = self
            .auth
            .authenticate(&self.store, &req, SystemTime::now())?;
        assert_eq!(who.service, service);
        let mut call = self.new_call(who.caller, service, action);
        call.params = Params::from_form(req.body);
        let out = match service {
            Service::Iam => vpcsim_api::services::iam::handle(&self.store, &call),
            Service::Sts => vpcsim_api::services::sts::handle(&self.store, &call),
            _ => unreachable!(),
        };
        CloudTrailRecorder.record(&self.store, &call, &out);
        let (status, body) = match &out {
            Ok(Reply::Xml(x)) => (200, x.clone()),
            Err(e) => (
                e.status,
                e.render(service.protocol(), service.xmlns(), &call.request_id),
            ),
            Ok(other) => panic!("{other:?}"),
        };
        self.answers.push(json!({"service": service.signing_name(), "operation": action, "status": status, "body": body}));
        out.map(|_| body)
    }

    fn new_call(&self, caller: Caller, service: Service, action: &str) -> Call {
        Call::new(
            service,
            action.into(),
            "us-east-1".into(),
            ACCT.into(),
            vpcsim_api::ids::uuid(),
            "198.51.100.4".parse().unwrap(),
            SystemTime::now(),
            caller,
            Arc::new(PolicyAuthorizer::new(Arc::clone(&self.store))),
        )
    }

    /// Everything answered so far, parsed by botocore, in order.
    fn parsed(&self) -> Vec<Value> {
        let v = sdk(&self.py, json!({"parse": self.answers}));
        v["parsed"].as_array().unwrap().clone()
    }
}

#[test]
fn iam_sts_and_cloudtrail_through_botocore() {
    let Some(py) = python() else { return };
    let mut w = World::new(py);
    let (ak, sk, _) = ensure_root_credentials(&w.store, None, None).unwrap();
    let root = (ak.as_str(), sk.as_str(), None);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","sts:AssumeRole"],"Resource":"*"}]}"#;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    w.call(
        root,
        Service::Iam,
        "CreateUser",
        &[
            ("UserName", "dev"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "web"),
        ],
    )
    .unwrap();
    w.call(
        root,
        Service::Iam,
        "CreateAccessKey",
        &[("UserName", "dev")],
    )
    .unwrap();
    w.call(
        root,
        Service::Iam,
        "CreatePolicy",
        &[("PolicyName", "describe"), ("PolicyDocument", doc)],
    )
    .unwrap();
    w.call(
        root,
        Service::Iam,
        "AttachUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyArn", &format!("arn:aws:iam::{ACCT}:policy/describe")),
        ],
    )
    .unwrap();
    w.call(
        root,
        Service::Iam,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "inline"),
            ("PolicyDocument", doc),
        ],
    )
    .unwrap();
    w.call(
        root,
        Service::Iam,
        "CreateRole",
        &[("RoleName", "ops"), ("AssumeRolePolicyDocument", &trust)],
    )
    .unwrap();
    w.call(root, Service::Iam, "ListUsers", &[]).unwrap();
    w.call(
        root,
        Service::Iam,
        "ListAttachedUserPolicies",
        &[("UserName", "dev")],
    )
    .unwrap();
    w.call(
        root,
        Service::Iam,
        "GetUserPolicy",
        &[("UserName", "dev"), ("PolicyName", "inline")],
    )
    .unwrap();
    w.call(root, Service::Iam, "GetRole", &[("RoleName", "ops")])
        .unwrap();
    w.call(root, Service::Iam, "ListPolicies", &[("Scope", "AWS")])
        .unwrap();
    assert_eq!(
        w.call(root, Service::Iam, "GetUser", &[("UserName", "nobody")])
            .unwrap_err()
            .code,
        "NoSuchEntity"
    );
    let p = w.parsed();
    assert_eq!(p[0]["User"]["UserName"], "dev");
    assert_eq!(
        p[0]["User"]["Tags"],
        json!([{"Key": "team", "Value": "web"}])
    );
    assert!(p[0]["User"]["CreateDate"]["datetime"].is_string());
    let key = p[1]["AccessKey"].clone();
    assert_eq!(key["Status"], "Active");
    assert_eq!(p[2]["Policy"]["DefaultVersionId"], "v1");
    assert_eq!(
        p[6]["Users"][0]["Arn"],
        format!("arn:aws:iam::{ACCT}:user/dev")
    );
    assert_eq!(p[6]["IsTruncated"], false);
    assert_eq!(p[7]["AttachedPolicies"][0]["PolicyName"], "describe");
    // botocore decodes the URL-encoded document into a dict.
    assert_eq!(
        p[8]["PolicyDocument"]["Statement"][0]["Action"][1],
        "sts:AssumeRole"
    );
    assert_eq!(
        p[9]["Role"]["AssumeRolePolicyDocument"]["Statement"]["Action"],
        "sts:AssumeRole"
    );
    assert_eq!(p[9]["Role"]["MaxSessionDuration"], 3600);
    assert!(p[10]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["PolicyName"] == "AdministratorAccess"));
    assert_eq!(p[11]["Error"]["Code"], "NoSuchEntity");

    // The user's key, signed by botocore.
    let dev = (
        key["AccessKeyId"].as_str().unwrap().to_string(),
        key["SecretAccessKey"].as_str().unwrap().to_string(),
    );
    let dev_key = (dev.0.as_str(), dev.1.as_str(), None);
    w.answers.clear();
    w.call(dev_key, Service::Sts, "GetCallerIdentity", &[])
        .unwrap();
    assert_eq!(
        w.call(dev_key, Service::Iam, "ListUsers", &[])
            .unwrap_err()
            .code,
        "AccessDenied"
    );
    w.call(
        dev_key,
        Service::Sts,
        "AssumeRole",
        &[
            ("RoleArn", &format!("arn:aws:iam::{ACCT}:role/ops")),
            ("RoleSessionName", "ci"),
        ],
    )
    .unwrap();
    let p = w.parsed();
    assert_eq!(p[0]["Arn"], format!("arn:aws:iam::{ACCT}:user/dev"));
    assert_eq!(p[0]["Account"], ACCT);
    assert_eq!(p[1]["Error"]["Code"], "AccessDenied");
    assert!(p[1]["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("is not authorized to perform: iam:ListUsers"));
    let creds = p[2]["Credentials"].clone();
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(creds["Expiration"]["datetime"].is_string());
    assert_eq!(
        p[2]["AssumedRoleUser"]["Arn"],
        format!("arn:aws:sts::{ACCT}:assumed-role/ops/ci")
    );

    // The session, with its token; without it, refused.
    let (a, s, t) = (
        creds["AccessKeyId"].as_str().unwrap(),
        creds["SecretAccessKey"].as_str().unwrap(),
        creds["SessionToken"].as_str().unwrap(),
    );
    w.answers.clear();
    w.call((a, s, Some(t)), Service::Sts, "GetCallerIdentity", &[])
        .unwrap();
    assert_eq!(
        w.parsed()[0]["Arn"],
        format!("arn:aws:sts::{ACCT}:assumed-role/ops/ci")
    );
    assert_eq!(
        w.call((a, s, None), Service::Sts, "GetCallerIdentity", &[])
            .unwrap_err()
            .code,
        "InvalidClientTokenId"
    );
    assert_eq!(
        w.call(
            (a, "wrong-secret", Some(t)),
            Service::Sts,
            "GetCallerIdentity",
            &[]
        )
        .unwrap_err()
        .code,
        "SignatureDoesNotMatch"
    );

    // CloudTrail: the denial is there, parsed by botocore's JSON parser.
    let mut call = w.new_call(
        w.store
            .read(|tx| vpcsim_api::auth::credentials::lookup(tx, ACCT, &ak))
            .unwrap()
            .unwrap()
            .caller,
        Service::CloudTrail,
        "LookupEvents",
    );
    call.json = Some(
        json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}]}),
    );
    let Reply::Json(v) = vpcsim_api::services::cloudtrail::handle(&w.store, &call).unwrap() else {
        panic!()
    };
    w.answers = vec![
        json!({"service": "cloudtrail", "operation": "LookupEvents", "status": 200, "body": v.to_string()}),
    ];
    let events = w.parsed()[0]["Events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert!(events[0]["EventTime"]["datetime"].is_string());
    assert_eq!(events[0]["Username"], "dev");
    let record: Value =
        serde_json::from_str(events[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["errorCode"], "AccessDenied");
    assert_eq!(record["userIdentity"]["type"], "IAMUser");
    assert_eq!(record["sourceIPAddress"], "198.51.100.4");
    assert_eq!(events[1]["Username"], "root");
}
