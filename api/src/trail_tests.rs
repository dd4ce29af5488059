use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::call::Caller;
use crate::services::iam::tests::{new_call, root, text, user_caller, ACCT, DESCRIBE_ONLY};

const T0: i64 = 1_796_676_000; // 2026-12-07T20:40:00Z, the start of a 5-minute window

fn at(secs: i64) -> SystemTime {
    dates::from_epoch_seconds(T0 + secs)
}

/// Runs a call through its handler (or, for EC2, just its authorization) and records it.
fn exec(
    s: &Arc<Store>,
    caller: Caller,
    service: Service,
    action: &str,
    params: &[(&str, &str)],
    when: SystemTime,
) -> (Result<Reply, ApiError>, Value) {
    let mut call = new_call(s, caller, service, action, params);
    call.now = when;
    call.user_agent = Some("aws-cli/2.15.0".into());
    let out = match service {
        Service::Iam => crate::services::iam::handle(s, &call),
        Service::Sts => crate::services::sts::handle(s, &call),
        Service::Ec2 => call
            .authorize(&[call.ec2_arn("instance", "*")], &[])
            .map(|_| Reply::Xml(crate::xml::ec2_response(action, &call.request_id, ""))),
        _ => unreachable!(),
    };
    CloudTrailRecorder.record(s, &call, &out);
    let rec = record_for(&call, &out);
    (out, rec)
}

fn lookup(s: &Arc<Store>, body: Value) -> Result<Value, ApiError> {
    let mut call = new_call(s, root(), Service::CloudTrail, "LookupEvents", &[]);
    call.json = Some(body);
    match crate::services::cloudtrail::handle(s, &call)? {
        Reply::Json(v) => Ok(v),
        other => panic!("{other:?}"),
    }
}

fn world() -> (Arc<Store>, Caller) {
    let s = Arc::new(Store::open(None).unwrap());
    let _ = exec(
        &s,
        root(),
        Service::Iam,
        "CreateUser",
        &[("UserName", "dev")],
        at(1),
    );
    let (k, _) = exec(
        &s,
        root(),
        Service::Iam,
        "CreateAccessKey",
        &[("UserName", "dev")],
        at(2),
    );
    let Ok(Reply::Xml(k)) = k else { panic!() };
    let dev = user_caller(&s, &text(&k, "AccessKeyId"));
    let _ = exec(
        &s,
        root(),
        Service::Iam,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "p"),
            ("PolicyDocument", DESCRIBE_ONLY),
        ],
        at(3),
    );
    (s, dev)
}

#[test]
fn records_carry_awss_fields() {
    let (s, dev) = world();
    let (_, r) = exec(
        &s,
        root(),
        Service::Iam,
        "CreateUser",
        &[("UserName", "ops"), ("Path", "/eng/")],
        at(10),
    );
    assert_eq!(r["eventVersion"], "1.08");
    assert_eq!(r["eventTime"], "2026-12-07T20:40:10Z");
    assert_eq!(r["eventSource"], "iam.amazonaws.com");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["sourceIPAddress"], "203.0.113.7");
    assert_eq!(r["userAgent"], "aws-cli/2.15.0");
    assert_eq!(r["userIdentity"]["type"], "Root");
    assert_eq!(
        r["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCT}:root")
    );
    assert_eq!(
        r["requestParameters"],
        json!({"userName": "ops", "path": "/eng/"})
    );
    assert_eq!(r["responseElements"]["user"]["userName"], "ops");
    assert_eq!(
        r["responseElements"]["user"]["arn"],
        format!("arn:aws:iam::{ACCT}:user/eng/ops")
    );
    assert_eq!(
        (r["readOnly"].clone(), r["eventType"].clone()),
        (json!(false), json!("AwsApiCall"))
    );
    assert_eq!(
        (r["managementEvent"].clone(), r["eventCategory"].clone()),
        (json!(true), json!("Management"))
    );
    assert_eq!(r["recipientAccountId"], ACCT);
    assert_eq!(r["eventID"].as_str().unwrap().len(), 36);
    assert!(r.get("errorCode").is_none());
    // Reads have no responseElements; IAM users are named.
    let (_, r) = exec(&s, dev.clone(), Service::Iam, "GetUser", &[], at(11));
    assert_eq!(r["readOnly"], true);
    assert_eq!(r["responseElements"], Value::Null);
    assert_eq!(r["userIdentity"]["type"], "IAMUser");
    assert_eq!(r["userIdentity"]["userName"], "dev");
    assert!(r["userIdentity"]["principalId"]
        .as_str()
        .unwrap()
        .starts_with("AIDA"));
}

#[test]
fn denials_are_recorded_with_their_codes() {
    let (s, dev) = world();
    let (out, r) = exec(
        &s,
        dev.clone(),
        Service::Ec2,
        "RunInstances",
        &[("ImageId", "ami-1")],
        at(20),
    );
    assert_eq!(out.unwrap_err().code, "UnauthorizedOperation");
    assert_eq!(r["errorCode"], "Client.UnauthorizedOperation");
    assert!(r["errorMessage"]
        .as_str()
        .unwrap()
        .starts_with("You are not authorized to perform this operation."));
    assert_eq!(r["responseElements"], Value::Null);
    assert_eq!(r["eventSource"], "ec2.amazonaws.com");
    assert_eq!(r["apiVersion"], "2016-11-15");
    let (_, r) = exec(&s, dev, Service::Iam, "ListUsers", &[], at(21));
    assert_eq!(r["errorCode"], "AccessDenied");
}

#[test]
fn secrets_are_never_recorded() {
    let (s, _) = world();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{ACCT}"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let _ = exec(
        &s,
        root(),
        Service::Iam,
        "CreateRole",
        &[("RoleName", "ops"), ("AssumeRolePolicyDocument", &trust)],
        at(30),
    );
    let (out, r) = exec(
        &s,
        root(),
        Service::Sts,
        "AssumeRole",
        &[
            ("RoleArn", &format!("arn:aws:iam::{ACCT}:role/ops")),
            ("RoleSessionName", "s1"),
        ],
        at(31),
    );
    let Ok(Reply::Xml(x)) = out else { panic!() };
    let secret = text(&x, "SecretAccessKey");
    let token = text(&x, "SessionToken");
    let all = serde_json::to_string(
        &s.read(|tx| tx.events("us-east-1", 0, i64::MAX, 0, 1000))
            .unwrap(),
    )
    .unwrap();
    assert!(!all.contains(&secret) && !all.contains(&token));
    assert!(!all.to_ascii_lowercase().contains("secretaccesskey"));
    assert_eq!(
        r["responseElements"]["assumedRoleUser"]["arn"],
        format!("arn:aws:sts::{ACCT}:assumed-role/ops/s1")
    );
    assert!(r["responseElements"]["credentials"]["accessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    // The session's own calls are AssumedRole events with their issuer.
    let key = r["responseElements"]["credentials"]["accessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let session = s
        .read(|tx| crate::auth::credentials::lookup(tx, ACCT, &key))
        .unwrap()
        .unwrap()
        .caller;
    let (_, r) = exec(&s, session, Service::Sts, "GetCallerIdentity", &[], at(32));
    let id = &r["userIdentity"];
    assert_eq!(id["type"], "AssumedRole");
    assert_eq!(id["sessionContext"]["sessionIssuer"]["type"], "Role");
    assert_eq!(id["sessionContext"]["sessionIssuer"]["userName"], "ops");
    assert_eq!(
        id["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );
    assert_eq!(
        id["sessionContext"]["attributes"]["creationDate"],
        "2026-12-07T20:40:31Z"
    );
}

#[test]
fn lookup_events_filters_and_pages() {
    let (s, dev) = world();
    let _ = exec(&s, dev.clone(), Service::Ec2, "RunInstances", &[], at(40));
    let all = lookup(&s, json!({})).unwrap()["Events"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 4);
    // Newest first; the record travels as a JSON string.
    assert_eq!(all[0]["EventName"], "RunInstances");
    let rec: Value = serde_json::from_str(all[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(rec["errorCode"], "Client.UnauthorizedOperation");
    assert_eq!(all[0]["Username"], "dev");
    assert_eq!(all[0]["ReadOnly"], "false");
    assert_eq!(all[0]["EventTime"], T0 + 40);
    assert_eq!(all[1]["Username"], "root");
    let by = |k: &str, v: &str| {
        lookup(
            &s,
            json!({"LookupAttributes": [{"AttributeKey": k, "AttributeValue": v}]}),
        )
        .unwrap()["Events"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(by("EventName", "CreateUser"), 1);
    assert_eq!(by("Username", "dev"), 1);
    assert_eq!(by("AccessKeyId", dev.access_key_id.as_str()), 1);
    assert_eq!(by("EventSource", "iam.amazonaws.com"), 3);
    assert_eq!(by("ReadOnly", "true"), 0);
    assert_eq!(by("ResourceName", "dev"), 3);
    assert_eq!(by("EventId", rec["eventID"].as_str().unwrap()), 1);
    // Paging.
    let p1 = lookup(&s, json!({"MaxResults": 3})).unwrap();
    assert_eq!(p1["Events"].as_array().unwrap().len(), 3);
    let p2 = lookup(&s, json!({"MaxResults": 3, "NextToken": p1["NextToken"]})).unwrap();
    assert_eq!(p2["Events"].as_array().unwrap().len(), 1);
    assert!(p2.get("NextToken").is_none());
    // Time range (inclusive, epoch seconds as botocore sends them).
    let r = lookup(&s, json!({"StartTime": T0 + 2, "EndTime": T0 + 3})).unwrap();
    assert_eq!(r["Events"].as_array().unwrap().len(), 2);
    for (body, code) in [
        (
            json!({"StartTime": T0 + 5, "EndTime": T0}),
            "InvalidTimeRangeException",
        ),
        (json!({"MaxResults": 51}), "InvalidMaxResultsException"),
        (json!({"NextToken": "bogus"}), "InvalidNextTokenException"),
        (
            json!({"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "x"}]}),
            "InvalidLookupAttributesException",
        ),
        (
            json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "x"}, {"AttributeKey": "Username", "AttributeValue": "y"}]}),
            "InvalidLookupAttributesException",
        ),
    ] {
        assert_eq!(lookup(&s, body).unwrap_err().code, code);
    }
}

fn read_gz(p: &std::path::Path) -> Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

#[test]
fn delivery_writes_one_file_per_region_and_window() {
    let (s, dev) = world();
    let _ = exec(&s, dev, Service::Ec2, "DescribeVpcs", &[], at(301)); // the next window, us-east-1
    let dir = tempfile::tempdir().unwrap();
    // At T0+330 the first window closed only 30 s ago; at T0+400 it is written.
    assert!(deliver(&s, dir.path(), ACCT, at(330), false)
        .unwrap()
        .is_empty());
    let files = deliver(&s, dir.path(), ACCT, at(400), false).unwrap();
    assert_eq!(files.len(), 1);
    let rel = files[0]
        .strip_prefix(dir.path())
        .unwrap()
        .to_string_lossy()
        .to_string();
    let prefix = format!("AWSLogs/{ACCT}/CloudTrail/us-east-1/2026/12/07/{ACCT}_CloudTrail_us-east-1_20261207T2040Z_");
    assert!(
        rel.starts_with(&prefix) && rel.ends_with(".json.gz"),
        "{rel}"
    );
    assert_eq!(rel.len(), prefix.len() + 16 + ".json.gz".len());
    let recs = read_gz(&files[0])["Records"].as_array().unwrap().clone();
    assert_eq!(
        recs.iter()
            .map(|r| r["eventName"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["CreateUser", "CreateAccessKey", "PutUserPolicy"]
    );
    // Nothing twice; the current window at shutdown.
    assert!(deliver(&s, dir.path(), ACCT, at(420), false)
        .unwrap()
        .is_empty());
    let last = deliver(&s, dir.path(), ACCT, at(430), true).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(read_gz(&last[0])["Records"][0]["eventName"], "DescribeVpcs");
    assert!(deliver(
        &s,
        dir.path(),
        ACCT,
        at(430) + Duration::from_millis(1),
        true
    )
    .unwrap()
    .is_empty());
}

#[test]
fn xml_answers_become_response_elements() {
    let ec2 = crate::xml::ec2_response("CreateVpc", "r", "<vpc><vpcId>vpc-1</vpcId><tagSet><item><key>Name</key><value>a</value></item></tagSet></vpc>");
    assert_eq!(
        xml_to_json(&ec2).unwrap(),
        json!({"vpc": {"vpcId": "vpc-1", "tagSet": [{"key": "Name", "value": "a"}]}})
    );
    let q = crate::xml::query_response("DeleteUser", "ns", "r", None);
    assert_eq!(xml_to_json(&q), None);
}
