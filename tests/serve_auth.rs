//! `vpcsim serve` with real credentials: the SigV4 authenticator, IAM policies, STS and
//! CloudTrail, driven by the aws CLI and boto3 (their own parsers read every answer). Skipped
//! unless `VPCSIM_AWS_PYTHON` names a Python whose environment has `awscli` and `boto3`.

mod serve_common;

use serde_json::{json, Value};
use serve_common::free_port;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "123456789012";
const ROOT_KEY: &str = "AKIAROOTEXAMPLE00001";
const ROOT_SECRET: &str = "rootsecretrootsecretrootsecretrootsecret";

fn python() -> Option<PathBuf> {
    match std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            eprintln!("skipped: VPCSIM_AWS_PYTHON is not set (a Python with awscli and boto3)");
            None
        }
    }
}

/// Credentials a client signs with.
#[derive(Clone, Debug)]
struct Creds {
    key: String,
    secret: String,
    token: Option<String>,
}

impl Creds {
    fn new(key: &str, secret: &str) -> Creds {
        Creds {
            key: key.into(),
            secret: secret.into(),
            token: None,
        }
    }
}

/// A `vpcsim serve` started without `--no-auth`.
struct AuthServe {
    child: Child,
    url: String,
    /// Every line printed before the server was ready.
    banner: Vec<String>,
}

impl AuthServe {
    fn start(db: &Path, extra: &[&str]) -> AuthServe {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
            .args(["serve", "--listen", &listen, "--async-delay", "0.2", "--db"])
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vpcsim serve");
        let mut banner = Vec::new();
        let out = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(out).lines();
        for l in lines.by_ref() {
            let l = l.expect("stdout line");
            let ready = l.contains("listening on");
            banner.push(l);
            if ready {
                break;
            }
        }
        // Keep reading so later output never blocks the server on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let url = format!("http://{listen}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{url}/_vpcsim/health")).call().is_err() {
            assert!(Instant::now() < deadline, "no answer: {banner:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        AuthServe { child, url, banner }
    }

    fn with_root(db: &Path, extra: &[&str]) -> AuthServe {
        let mut args = vec!["--access-key", ROOT_KEY, "--secret-key", ROOT_SECRET];
        args.extend_from_slice(extra);
        AuthServe::start(db, &args)
    }

    /// SIGTERM, as a service manager stops it; its stderr once it has exited.
    fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().expect("wait").is_none() {
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for AuthServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client_env<'c>(cmd: &'c mut Command, c: &Creds) -> &'c mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", &c.key)
        .env("AWS_SECRET_ACCESS_KEY", &c.secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .env("AWS_MAX_ATTEMPTS", "1");
    match &c.token {
        Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
        None => cmd.env_remove("AWS_SESSION_TOKEN"),
    }
}

/// `aws --output json ARGS` signed with `c`: the parsed answer, or the CLI's exit code and
/// error text.
fn cli(py: &Path, s: &AuthServe, c: &Creds, args: &[&str]) -> Result<Value, (i32, String)> {
    let bin = py.parent().expect("python's bin directory").join("aws");
    let out = client_env(&mut Command::new(bin), c)
        .args(["--endpoint-url", &s.url, "--output", "json"])
        .args(args)
        .output()
        .expect("run aws");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        return Err((out.status.code().unwrap_or(-1), err));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

const BOTO: &str = r#"
import json, sys, boto3, botocore.config, botocore.exceptions
req = json.loads(sys.argv[1])
c = req["creds"]
client = boto3.client(req["service"], endpoint_url=req["url"], region_name="us-east-1",
    aws_access_key_id=c["key"], aws_secret_access_key=c["secret"],
    aws_session_token=c.get("token"),
    config=botocore.config.Config(retries={"max_attempts": 1}))
try:
    r = getattr(client, req["op"])(**req["params"])
    r.pop("ResponseMetadata", None)
    print(json.dumps({"ok": r}, default=str))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"error": e.response["Error"],
                      "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
"#;

/// A boto3 client call: `Ok(response dict)` or `Err(the parsed Error: {Code, Message})`.
fn boto(
    py: &Path,
    s: &AuthServe,
    c: &Creds,
    service: &str,
    op: &str,
    params: Value,
) -> Result<Value, Value> {
    let req = json!({
        "url": s.url, "service": service, "op": op, "params": params,
        "creds": {"key": c.key, "secret": c.secret, "token": c.token},
    });
    let out = Command::new(py)
        .args(["-c", BOTO, &req.to_string()])
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run python");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{op}: not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    match v.get("ok") {
        Some(ok) => Ok(ok.clone()),
        None => Err(v["error"].clone()),
    }
}

fn ok(py: &Path, s: &AuthServe, c: &Creds, service: &str, op: &str, params: Value) -> Value {
    boto(py, s, c, service, op, params).unwrap_or_else(|e| panic!("{service} {op} failed: {e}"))
}

fn error_code(r: Result<Value, Value>, what: &str) -> (String, String) {
    let e = r.expect_err(what);
    (
        e["Code"].as_str().unwrap_or_default().to_string(),
        e["Message"].as_str().unwrap_or_default().to_string(),
    )
}

fn root() -> Creds {
    Creds::new(ROOT_KEY, ROOT_SECRET)
}

fn server() -> (tempfile::TempDir, AuthServe) {
    let dir = tempfile::tempdir().unwrap();
    let s = AuthServe::with_root(&dir.path().join("state.db"), &[]);
    (dir, s)
}

/// An IAM user with an access key and one managed policy allowing `actions`.
fn user_with_policy(py: &Path, s: &AuthServe, name: &str, actions: &[&str]) -> Creds {
    let r = root();
    ok(py, s, &r, "iam", "create_user", json!({"UserName": name}));
    let doc = json!({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    let policy = ok(
        py,
        s,
        &r,
        "iam",
        "create_policy",
        json!({"PolicyName": format!("{name}-policy"), "PolicyDocument": doc.to_string()}),
    );
    let arn = policy["Policy"]["Arn"].as_str().expect("policy ARN");
    ok(
        py,
        s,
        &r,
        "iam",
        "attach_user_policy",
        json!({"UserName": name, "PolicyArn": arn}),
    );
    let key = ok(
        py,
        s,
        &r,
        "iam",
        "create_access_key",
        json!({"UserName": name}),
    );
    Creds::new(
        key["AccessKey"]["AccessKeyId"].as_str().expect("key id"),
        key["AccessKey"]["SecretAccessKey"]
            .as_str()
            .expect("secret"),
    )
}

fn create_vpc(cidr: &str) -> Value {
    json!({"CidrBlock": cidr})
}

#[test]
fn generated_root_credentials_are_printed_and_work() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let s = AuthServe::start(&db, &[]);
    let printed = |name: &str| {
        s.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {:?}", s.banner))
            .to_string()
    };
    let creds = Creds::new(
        &printed("AWS_ACCESS_KEY_ID"),
        &printed("AWS_SECRET_ACCESS_KEY"),
    );
    let me = cli(&py, &s, &creds, &["sts", "get-caller-identity"]).expect("get-caller-identity");
    assert_eq!(me["Account"], ACCOUNT);
    assert_eq!(me["Arn"], format!("arn:aws:iam::{ACCOUNT}:root"));
    let vpc = cli(
        &py,
        &s,
        &creds,
        &["ec2", "create-vpc", "--cidr-block", "10.9.0.0/16"],
    )
    .expect("create-vpc");
    assert!(vpc["Vpc"]["VpcId"].as_str().unwrap().starts_with("vpc-"));
    drop(s);
    // A second start on the same database keeps the key and does not print the secret again.
    let again = AuthServe::start(&db, &[]);
    assert!(
        again.banner.iter().all(|l| !l.contains(&creds.secret)),
        "{:?}",
        again.banner
    );
    assert!(again.banner.iter().any(|l| l.contains(&creds.key)));
    let me = cli(&py, &again, &creds, &["sts", "get-caller-identity"]).expect("again");
    assert_eq!(me["Arn"], format!("arn:aws:iam::{ACCOUNT}:root"));
}

#[test]
fn an_iam_user_limited_to_describe_is_denied_and_the_denial_is_in_cloudtrail() {
    let Some(py) = python() else { return };
    let (_d, s) = server();
    let r = root();
    let vpc = cli(
        &py,
        &s,
        &r,
        &["ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"],
    )
    .expect("root create-vpc");
    let vpc_id = vpc["Vpc"]["VpcId"].as_str().unwrap().to_string();
    let user = user_with_policy(&py, &s, "alice", &["ec2:Describe*"]);

    let me = ok(&py, &s, &user, "sts", "get_caller_identity", json!({}));
    assert_eq!(me["Arn"], format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(me["Account"], ACCOUNT);

    let (code, message) = error_code(
        boto(
            &py,
            &s,
            &user,
            "ec2",
            "create_vpc",
            create_vpc("10.1.0.0/16"),
        ),
        "alice's create-vpc",
    );
    assert_eq!(code, "UnauthorizedOperation");
    assert!(
        message.starts_with("You are not authorized to perform this operation."),
        "{message}"
    );
    assert!(message.contains("Encoded authorization failure message:"));
    // The CLI reports the same code.
    let (exit, text) = cli(
        &py,
        &s,
        &user,
        &["ec2", "create-vpc", "--cidr-block", "10.1.0.0/16"],
    )
    .expect_err("alice's create-vpc through the CLI");
    assert_ne!(exit, 0, "{text}");
    assert!(text.contains("(UnauthorizedOperation)"), "{text}");

    let subnet = ok(
        &py,
        &s,
        &r,
        "ec2",
        "create_subnet",
        json!({"VpcId": vpc_id, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"}),
    );
    let subnet_id = subnet["Subnet"]["SubnetId"].as_str().unwrap();
    let run = json!({"ImageId": "ami-12345678", "InstanceType": "t3.micro",
                     "MinCount": 1, "MaxCount": 1, "SubnetId": subnet_id});
    let (code, _) = error_code(
        boto(&py, &s, &user, "ec2", "run_instances", run.clone()),
        "alice's run-instances",
    );
    assert_eq!(code, "UnauthorizedOperation");

    let seen = ok(&py, &s, &user, "ec2", "describe_vpcs", json!({}));
    let ids: Vec<&str> = seen["Vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["VpcId"].as_str())
        .collect();
    assert!(ids.contains(&vpc_id.as_str()), "{ids:?}");

    // DryRun: root would have been allowed; alice would not.
    let mut dry = create_vpc("10.2.0.0/16");
    dry["DryRun"] = json!(true);
    let (code, message) = error_code(
        boto(&py, &s, &r, "ec2", "create_vpc", dry.clone()),
        "root's dry run",
    );
    assert_eq!(code, "DryRunOperation");
    assert_eq!(
        message,
        "Request would have succeeded, but DryRun flag is set."
    );
    let (code, _) = error_code(
        boto(&py, &s, &user, "ec2", "create_vpc", dry),
        "alice's dry run",
    );
    assert_eq!(code, "UnauthorizedOperation");
    let mut dry_run = run;
    dry_run["DryRun"] = json!(true);
    let (code, _) = error_code(
        boto(&py, &s, &r, "ec2", "run_instances", dry_run),
        "root's run-instances dry run",
    );
    assert_eq!(code, "DryRunOperation");
    // Nothing was created by the dry runs or the denials.
    let all = ok(&py, &s, &r, "ec2", "describe_vpcs", json!({}));
    let cidrs: Vec<&str> = all["Vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["CidrBlock"].as_str())
        .collect();
    assert!(!cidrs.contains(&"10.1.0.0/16") && !cidrs.contains(&"10.2.0.0/16"));

    let events = ok(
        &py,
        &s,
        &r,
        "cloudtrail",
        "lookup_events",
        json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateVpc"}]}),
    );
    let records: Vec<Value> = events["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect();
    let denied = records
        .iter()
        .find(|rec| rec["errorCode"] == "Client.UnauthorizedOperation")
        .unwrap_or_else(|| panic!("no denied CreateVpc in {records:?}"));
    assert_eq!(denied["userIdentity"]["type"], "IAMUser");
    assert_eq!(denied["userIdentity"]["userName"], "alice");
    assert_eq!(denied["userIdentity"]["accessKeyId"], user.key.as_str());
    assert_eq!(denied["eventSource"], "ec2.amazonaws.com");
    assert!(records
        .iter()
        .any(|rec| rec["userIdentity"]["type"] == "Root" && rec["errorCode"].is_null()));
    let by_user = ok(
        &py,
        &s,
        &r,
        "cloudtrail",
        "lookup_events",
        json!({"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "alice"}]}),
    );
    assert!(by_user["Events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["Username"] == "alice"));
}

#[test]
fn a_wrong_secret_or_unknown_key_is_refused_as_aws_refuses_it() {
    let Some(py) = python() else { return };
    let (_d, s) = server();
    let wrong = Creds::new(ROOT_KEY, "not-the-secret");
    let (code, message) = error_code(
        boto(&py, &s, &wrong, "ec2", "describe_vpcs", json!({})),
        "EC2 with a wrong secret",
    );
    assert_eq!(code, "AuthFailure");
    assert_eq!(
        message,
        "AWS was not able to validate the provided access credentials"
    );
    let (code, _) = error_code(
        boto(&py, &s, &wrong, "sts", "get_caller_identity", json!({})),
        "STS with a wrong secret",
    );
    assert_eq!(code, "SignatureDoesNotMatch");
    let (code, _) = error_code(
        boto(&py, &s, &wrong, "iam", "list_users", json!({})),
        "IAM with a wrong secret",
    );
    assert_eq!(code, "SignatureDoesNotMatch");
    let unknown = Creds::new("AKIANOSUCHKEY0000000", ROOT_SECRET);
    let (code, _) = error_code(
        boto(&py, &s, &unknown, "ec2", "describe_vpcs", json!({})),
        "EC2 with an unknown key",
    );
    assert_eq!(code, "AuthFailure");
    let (code, _) = error_code(
        boto(&py, &s, &unknown, "sts", "get_caller_identity", json!({})),
        "STS with an unknown key",
    );
    assert_eq!(code, "InvalidClientTokenId");
}

#[test]
fn assumed_role_session_is_allowed_and_denied_by_the_role_policy() {
    let Some(py) = python() else { return };
    let (_d, s) = server();
    let r = root();
    let user = user_with_policy(&py, &s, "bob", &["ec2:Describe*"]);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")},
        "Action": "sts:AssumeRole"}]});
    let role = ok(
        &py,
        &s,
        &r,
        "iam",
        "create_role",
        json!({"RoleName": "network-admin", "AssumeRolePolicyDocument": trust.to_string()}),
    );
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_string();
    let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["ec2:CreateVpc", "ec2:DescribeVpcs"], "Resource": "*"}]});
    ok(
        &py,
        &s,
        &r,
        "iam",
        "put_role_policy",
        json!({"RoleName": "network-admin", "PolicyName": "vpcs",
               "PolicyDocument": allow.to_string()}),
    );
    let assumed = ok(
        &py,
        &s,
        &user,
        "sts",
        "assume_role",
        json!({"RoleArn": role_arn, "RoleSessionName": "bob-session"}),
    );
    let c = &assumed["Credentials"];
    let session = Creds {
        key: c["AccessKeyId"].as_str().unwrap().into(),
        secret: c["SecretAccessKey"].as_str().unwrap().into(),
        token: Some(c["SessionToken"].as_str().unwrap().into()),
    };
    assert!(session.key.starts_with("ASIA"), "{}", session.key);
    let me = ok(&py, &s, &session, "sts", "get_caller_identity", json!({}));
    assert_eq!(
        me["Arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/network-admin/bob-session")
    );
    let vpc = ok(
        &py,
        &s,
        &session,
        "ec2",
        "create_vpc",
        create_vpc("10.5.0.0/16"),
    );
    assert!(vpc["Vpc"]["VpcId"].as_str().unwrap().starts_with("vpc-"));
    let (code, message) = error_code(
        boto(&py, &s, &session, "ec2", "describe_subnets", json!({})),
        "the session's describe-subnets",
    );
    assert_eq!(code, "UnauthorizedOperation");
    assert!(
        message.contains("assumed-role/network-admin/bob-session"),
        "{message}"
    );
    // Without the token the session key is not valid.
    let tokenless = Creds::new(&session.key, &session.secret);
    let (code, _) = error_code(
        boto(&py, &s, &tokenless, "ec2", "describe_vpcs", json!({})),
        "the session key without its token",
    );
    assert_eq!(code, "AuthFailure");
    // A user the trust policy does not name cannot assume the role.
    let other = user_with_policy(&py, &s, "carol", &["sts:AssumeRole"]);
    let (code, _) = error_code(
        boto(
            &py,
            &s,
            &other,
            "sts",
            "assume_role",
            json!({"RoleArn": role_arn, "RoleSessionName": "carol"}),
        ),
        "carol's assume-role",
    );
    assert_eq!(code, "AccessDenied");
}

#[test]
fn cloudtrail_dir_gets_the_gzipped_records_when_the_server_stops() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let s = AuthServe::with_root(
        &dir.path().join("state.db"),
        &["--cloudtrail-dir", trail.to_str().unwrap()],
    );
    let user = user_with_policy(&py, &s, "dave", &["ec2:Describe*"]);
    let r = root();
    ok(&py, &s, &r, "ec2", "create_vpc", create_vpc("10.3.0.0/16"));
    let _ = boto(
        &py,
        &s,
        &user,
        "ec2",
        "create_vpc",
        create_vpc("10.4.0.0/16"),
    );
    let stderr = s.terminate();
    assert!(stderr.contains("vpcsim serve: stopped"), "{stderr}");
    let folder = trail.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1"));
    let files = gz_files(&folder);
    assert!(!files.is_empty(), "nothing under {}", folder.display());
    let mut records = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(&format!("{ACCOUNT}_CloudTrail_us-east-1_")),
            "{name}"
        );
        // AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
        let rel = f.strip_prefix(&folder).unwrap();
        let parts: Vec<_> = rel.components().collect();
        assert_eq!(parts.len(), 4, "{}", rel.display());
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        records.extend(v["Records"].as_array().unwrap().iter().cloned());
    }
    assert!(records
        .iter()
        .any(|r| r["eventName"] == "CreateVpc" && r["userIdentity"]["type"] == "Root"));
    assert!(records.iter().any(|r| r["eventName"] == "CreateVpc"
        && r["errorCode"] == "Client.UnauthorizedOperation"
        && r["userIdentity"]["userName"] == "dave"));
    assert!(records
        .iter()
        .any(|r| r["eventName"] == "CreateUser" && r["eventSource"] == "iam.amazonaws.com"));
}

fn gz_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(gz_files(&p));
        } else if p.extension().is_some_and(|x| x == "gz") {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_breaching_metric_puts_the_alarm_in_alarm_at_the_next_evaluation() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = AuthServe::with_root(&dir.path().join("state.db"), &["--alarm-interval", "1"]);
    let r = root();
    ok(
        &py,
        &s,
        &r,
        "cloudwatch",
        "put_metric_alarm",
        json!({"AlarmName": "hot", "Namespace": "App", "MetricName": "Latency",
               "Statistic": "Maximum", "Period": 10, "EvaluationPeriods": 1,
               "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold"}),
    );
    let state = |s: &AuthServe| {
        let a = ok(
            &py,
            s,
            &r,
            "cloudwatch",
            "describe_alarms",
            json!({"AlarmNames": ["hot"]}),
        );
        a["MetricAlarms"][0]["StateValue"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(state(&s), "INSUFFICIENT_DATA");
    // High-resolution breaching points in the last whole 10-second periods (the current
    // period is never evaluated; standard-resolution data would only fill whole minutes).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let data: Vec<Value> = [5, 15, 25]
        .iter()
        .map(|ago| {
            json!({"MetricName": "Latency", "Value": 100.0, "Timestamp": now - ago,
                     "StorageResolution": 1})
        })
        .collect();
    ok(
        &py,
        &s,
        &r,
        "cloudwatch",
        "put_metric_data",
        json!({"Namespace": "App", "MetricData": data}),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = state(&s);
    while last != "ALARM" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        last = state(&s);
    }
    assert_eq!(last, "ALARM");
    let history = ok(
        &py,
        &s,
        &r,
        "cloudwatch",
        "describe_alarm_history",
        json!({"AlarmName": "hot", "HistoryItemType": "StateUpdate"}),
    );
    assert!(!history["AlarmHistoryItems"].as_array().unwrap().is_empty());
}
