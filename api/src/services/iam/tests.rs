use std::sync::Arc;
use std::time::SystemTime;

use crate::auth::credentials::lookup;
use crate::auth::entities::{ACCESS_KEYS, SESSIONS};
use crate::auth::{ensure_root_credentials, PolicyAuthorizer, SigV4Authenticator};
use crate::call::{Authenticator, Call, Caller, CallerKind, HttpRequest, Reply};
use crate::error::ApiError;
use crate::params::Params;
use crate::service::Service;
use crate::store::{Store, GLOBAL};

pub(crate) const ACCT: &str = "123456789012";

pub(crate) fn root() -> Caller {
    Caller {
        arn: format!("arn:aws:iam::{ACCT}:root"),
        principal_id: ACCT.into(),
        access_key_id: "AKIAROOTROOTROOTROOT".into(),
        kind: CallerKind::Root,
        tags: vec![],
    }
}

pub(crate) fn new_call(
    store: &Arc<Store>,
    caller: Caller,
    service: Service,
    action: &str,
    params: &[(&str, &str)],
) -> Call {
    let mut c = Call::new(
        service,
        action.into(),
        "us-east-1".into(),
        ACCT.into(),
        crate::ids::uuid(),
        "203.0.113.7".parse().unwrap(),
        SystemTime::now(),
        caller,
        Arc::new(PolicyAuthorizer::new(Arc::clone(store))),
    );
    c.params = Params::from_pairs(params.iter().copied());
    c
}

pub(crate) fn run(
    store: &Arc<Store>,
    caller: Caller,
    service: Service,
    action: &str,
    params: &[(&str, &str)],
) -> Result<String, ApiError> {
    let call = new_call(store, caller, service, action, params);
    let out = match service {
        Service::Iam => super::handle(store, &call),
        Service::Sts => crate::services::sts::handle(store, &call),
        _ => unreachable!(),
    };
    assert!(
        out.is_err() || call.was_authorized(),
        "{action} answered without authorizing"
    );
    match out? {
        Reply::Xml(x) => Ok(x),
        other => panic!("{other:?}"),
    }
}

fn iam(store: &Arc<Store>, action: &str, params: &[(&str, &str)]) -> Result<String, ApiError> {
    run(store, root(), Service::Iam, action, params)
}

/// The text of the first `<tag>` (enough for these unit tests; the SDK-level tests parse with
/// botocore).
pub(crate) fn text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    xml[start..end].to_string()
}

fn store() -> Arc<Store> {
    Arc::new(Store::open(None).unwrap())
}

/// The caller an IAM user's access key authenticates as.
pub(crate) fn user_caller(store: &Store, key: &str) -> Caller {
    store
        .read(|tx| lookup(tx, ACCT, key))
        .unwrap()
        .unwrap()
        .caller
}

pub(crate) const DESCRIBE_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","iam:GetUser","iam:CreateAccessKey"],"Resource":"*"}]}"#;

#[test]
fn users_and_their_lifecycle() {
    let s = store();
    let x = iam(
        &s,
        "CreateUser",
        &[
            ("UserName", "dev"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "web"),
        ],
    )
    .unwrap();
    assert_eq!(text(&x, "Arn"), format!("arn:aws:iam::{ACCT}:user/dev"));
    assert!(text(&x, "UserId").starts_with("AIDA"));
    let e = iam(&s, "CreateUser", &[("UserName", "DEV")]).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("EntityAlreadyExists", 409));
    let e = iam(&s, "GetUser", &[("UserName", "nobody")]).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("NoSuchEntity", 404));
    assert_eq!(
        iam(&s, "CreateUser", &[("UserName", "bad name")])
            .unwrap_err()
            .code,
        "ValidationError"
    );
    let k = iam(&s, "CreateAccessKey", &[("UserName", "dev")]).unwrap();
    let key = text(&k, "AccessKeyId");
    assert!(key.starts_with("AKIA") && text(&k, "SecretAccessKey").len() == 40);
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "p"),
            ("PolicyDocument", DESCRIBE_ONLY),
        ],
    )
    .unwrap();
    // Keys and policies block deletion.
    let e = iam(&s, "DeleteUser", &[("UserName", "dev")]).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("DeleteConflict", 409));
    iam(
        &s,
        "DeleteAccessKey",
        &[("UserName", "dev"), ("AccessKeyId", &key)],
    )
    .unwrap();
    assert_eq!(
        iam(&s, "DeleteUser", &[("UserName", "dev")])
            .unwrap_err()
            .code,
        "DeleteConflict"
    );
    let doc = text(
        &iam(
            &s,
            "GetUserPolicy",
            &[("UserName", "dev"), ("PolicyName", "p")],
        )
        .unwrap(),
        "PolicyDocument",
    );
    assert!(doc.starts_with("%7B%22Version%22"), "{doc}");
    assert_eq!(
        text(
            &iam(&s, "ListUserPolicies", &[("UserName", "dev")]).unwrap(),
            "member"
        ),
        "p"
    );
    iam(
        &s,
        "DeleteUserPolicy",
        &[("UserName", "dev"), ("PolicyName", "p")],
    )
    .unwrap();
    assert_eq!(
        iam(
            &s,
            "DeleteUserPolicy",
            &[("UserName", "dev"), ("PolicyName", "p")]
        )
        .unwrap_err()
        .code,
        "NoSuchEntity"
    );
    iam(&s, "DeleteUser", &[("UserName", "dev")]).unwrap();
    assert_eq!(
        iam(&s, "GetUser", &[("UserName", "dev")]).unwrap_err().code,
        "NoSuchEntity"
    );
}

#[test]
fn list_users_pages_with_marker() {
    let s = store();
    for n in ["a", "b", "c"] {
        iam(&s, "CreateUser", &[("UserName", n)]).unwrap();
    }
    let p1 = iam(&s, "ListUsers", &[("MaxItems", "2")]).unwrap();
    assert_eq!(text(&p1, "IsTruncated"), "true");
    assert_eq!(p1.matches("<member>").count(), 2);
    let marker = text(&p1, "Marker");
    let p2 = iam(&s, "ListUsers", &[("MaxItems", "2"), ("Marker", &marker)]).unwrap();
    assert_eq!(text(&p2, "IsTruncated"), "false");
    assert_eq!(text(&p2, "UserName"), "c");
    assert_eq!(
        iam(&s, "ListUsers", &[("MaxItems", "0")]).unwrap_err().code,
        "ValidationError"
    );
}

#[test]
fn malformed_policy_documents_are_refused() {
    let s = store();
    for doc in [
        "{",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}"#,
    ] {
        let e = iam(
            &s,
            "CreatePolicy",
            &[("PolicyName", "p"), ("PolicyDocument", doc)],
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.status),
            ("MalformedPolicyDocument", 400)
        );
    }
}

#[test]
fn managed_policies_versions_and_attachments() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    let p = iam(
        &s,
        "CreatePolicy",
        &[("PolicyName", "ro"), ("PolicyDocument", DESCRIBE_ONLY)],
    )
    .unwrap();
    let arn = text(&p, "Arn");
    assert_eq!(arn, format!("arn:aws:iam::{ACCT}:policy/ro"));
    assert_eq!(
        iam(
            &s,
            "CreatePolicy",
            &[("PolicyName", "ro"), ("PolicyDocument", DESCRIBE_ONLY)]
        )
        .unwrap_err()
        .status,
        409
    );
    let v = iam(
        &s,
        "CreatePolicyVersion",
        &[
            ("PolicyArn", &arn),
            ("PolicyDocument", DESCRIBE_ONLY),
            ("SetAsDefault", "true"),
        ],
    )
    .unwrap();
    assert_eq!(text(&v, "VersionId"), "v2");
    assert_eq!(
        text(
            &iam(&s, "GetPolicy", &[("PolicyArn", &arn)]).unwrap(),
            "DefaultVersionId"
        ),
        "v2"
    );
    assert!(text(
        &iam(
            &s,
            "GetPolicyVersion",
            &[("PolicyArn", &arn), ("VersionId", "v1")]
        )
        .unwrap(),
        "Document"
    )
    .contains("ec2%3ADescribe"));
    iam(
        &s,
        "AttachUserPolicy",
        &[("UserName", "dev"), ("PolicyArn", &arn)],
    )
    .unwrap();
    iam(
        &s,
        "AttachUserPolicy",
        &[
            ("UserName", "dev"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        text(
            &iam(&s, "GetPolicy", &[("PolicyArn", &arn)]).unwrap(),
            "AttachmentCount"
        ),
        "1"
    );
    let att = iam(&s, "ListAttachedUserPolicies", &[("UserName", "dev")]).unwrap();
    assert_eq!(att.matches("<member>").count(), 2);
    assert_eq!(
        iam(&s, "DeletePolicy", &[("PolicyArn", &arn)])
            .unwrap_err()
            .code,
        "DeleteConflict"
    );
    let e = iam(
        &s,
        "AttachUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyArn", "arn:aws:iam::aws:policy/Nope"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    iam(
        &s,
        "DetachUserPolicy",
        &[("UserName", "dev"), ("PolicyArn", &arn)],
    )
    .unwrap();
    assert_eq!(
        text(
            &iam(&s, "GetPolicy", &[("PolicyArn", &arn)]).unwrap(),
            "AttachmentCount"
        ),
        "0"
    );
    // AWS managed policies are listed and readable.
    let all = iam(
        &s,
        "ListPolicies",
        &[("Scope", "AWS"), ("MaxItems", "1000")],
    )
    .unwrap();
    assert!(all.contains("arn:aws:iam::aws:policy/AdministratorAccess"));
    assert!(!all.contains("policy/ro<"));
    let local = iam(&s, "ListPolicies", &[("Scope", "Local")]).unwrap();
    assert_eq!(text(&local, "PolicyName"), "ro");
    let admin = iam(
        &s,
        "GetPolicyVersion",
        &[
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
            ("VersionId", "v1"),
        ],
    )
    .unwrap();
    assert!(text(&admin, "Document").contains("%22Action%22%3A%22%2A%22"));
}

#[test]
fn user_policies_decide_what_a_user_may_do() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    let k = iam(&s, "CreateAccessKey", &[("UserName", "dev")]).unwrap();
    let dev = user_caller(&s, &text(&k, "AccessKeyId"));
    assert_eq!(dev.kind, CallerKind::IamUser { name: "dev".into() });
    // No policy: implicit deny, IAM's AccessDenied sentence.
    let e = run(&s, dev.clone(), Service::Iam, "ListUsers", &[]).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403));
    assert_eq!(e.message, format!("User: arn:aws:iam::{ACCT}:user/dev is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{ACCT}:user/ because no identity-based policy allows the iam:ListUsers action"));
    // A group's policy applies to its members.
    iam(&s, "CreateGroup", &[("GroupName", "readers")]).unwrap();
    iam(
        &s,
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "dev")],
    )
    .unwrap();
    iam(
        &s,
        "AttachGroupPolicy",
        &[
            ("GroupName", "readers"),
            ("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ],
    )
    .unwrap();
    run(&s, dev.clone(), Service::Iam, "ListUsers", &[]).unwrap();
    assert_eq!(
        text(
            &iam(&s, "ListGroupsForUser", &[("UserName", "dev")]).unwrap(),
            "GroupName"
        ),
        "readers"
    );
    // An explicit deny in an inline policy wins.
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:List*","Resource":"*"}}"#;
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "no-list"),
            ("PolicyDocument", deny),
        ],
    )
    .unwrap();
    let e = run(&s, dev.clone(), Service::Iam, "ListUsers", &[]).unwrap_err();
    assert!(
        e.message
            .ends_with("with an explicit deny in an identity-based policy"),
        "{}",
        e.message
    );
    iam(
        &s,
        "DeleteUserPolicy",
        &[("UserName", "dev"), ("PolicyName", "no-list")],
    )
    .unwrap();
    // Users manage their own keys through ${aws:username}.
    let own = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"}}"#;
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "own"),
            ("PolicyDocument", own),
        ],
    )
    .unwrap();
    iam(&s, "CreateUser", &[("UserName", "ops")]).unwrap();
    run(&s, dev.clone(), Service::Iam, "ListAccessKeys", &[]).unwrap();
    assert_eq!(
        run(
            &s,
            dev,
            Service::Iam,
            "CreateAccessKey",
            &[("UserName", "ops")]
        )
        .unwrap_err()
        .code,
        "AccessDenied"
    );
}

#[test]
fn ec2_denials_carry_the_encoded_message() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    let k = iam(&s, "CreateAccessKey", &[("UserName", "dev")]).unwrap();
    let dev = user_caller(&s, &text(&k, "AccessKeyId"));
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "p"),
            ("PolicyDocument", DESCRIBE_ONLY),
        ],
    )
    .unwrap();
    let call = new_call(&s, dev, Service::Ec2, "RunInstances", &[]);
    let e = call
        .authorize(&[format!("arn:aws:ec2:us-east-1:{ACCT}:instance/*")], &[])
        .unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("UnauthorizedOperation", 403));
    assert!(e.message.starts_with(&format!("You are not authorized to perform this operation. User: arn:aws:iam::{ACCT}:user/dev is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:{ACCT}:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: ")), "{}", e.message);
    let ok = new_call(&s, call.caller.clone(), Service::Ec2, "DescribeVpcs", &[]);
    ok.authorize(&[], &[]).unwrap();
    // Conditions see the handler's context keys.
    let tagged = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}"#;
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "t"),
            ("PolicyDocument", tagged),
        ],
    )
    .unwrap();
    let term = new_call(
        &s,
        call.caller.clone(),
        Service::Ec2,
        "TerminateInstances",
        &[],
    );
    let arn = [format!("arn:aws:ec2:us-east-1:{ACCT}:instance/i-1")];
    term.authorize(&arn, &[("aws:ResourceTag/env".into(), vec!["dev".into()])])
        .unwrap();
    assert!(term
        .authorize(&arn, &[("aws:ResourceTag/env".into(), vec!["prod".into()])])
        .is_err());
}

#[test]
fn inactive_keys_fail_authentication() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    let k = iam(&s, "CreateAccessKey", &[("UserName", "dev")]).unwrap();
    let key = text(&k, "AccessKeyId");
    iam(
        &s,
        "UpdateAccessKey",
        &[
            ("UserName", "dev"),
            ("AccessKeyId", &key),
            ("Status", "Inactive"),
        ],
    )
    .unwrap();
    assert!(s.read(|tx| lookup(tx, ACCT, &key)).unwrap().is_none());
    let listed = iam(&s, "ListAccessKeys", &[("UserName", "dev")]).unwrap();
    assert_eq!(text(&listed, "Status"), "Inactive");
    assert!(!listed.contains("SecretAccessKey"));
}

#[test]
fn root_credentials_are_generated_once_or_taken_from_flags() {
    let s = store();
    let (a, secret, new) = ensure_root_credentials(&s, None, None).unwrap();
    assert!(new && a.starts_with("AKIA") && secret.len() == 40);
    assert_eq!(
        ensure_root_credentials(&s, None, None).unwrap(),
        (a, secret, false)
    );
    let given = ensure_root_credentials(
        &s,
        Some("AKIAIOSFODNN7EXAMPLE"),
        Some("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    )
    .unwrap();
    assert!(!given.2);
    let c = s
        .read(|tx| lookup(tx, ACCT, "AKIAIOSFODNN7EXAMPLE"))
        .unwrap()
        .unwrap();
    assert_eq!(c.caller.kind, CallerKind::Root);
    assert!(ensure_root_credentials(&s, Some("AKIA"), None).is_err());
}

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sigv4_botocore.json"
    )))
    .unwrap()
}

fn signed_at(v: &Vector) -> SystemTime {
    let d = &v
        .headers
        .iter()
        .find(|(k, _)| k == "X-Amz-Date")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| {
            v.query
                .split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Date="))
                .unwrap()
                .to_string()
        });
    crate::auth::dates::parse_amz_date(d).unwrap()
}

/// The botocore-signed fixtures authenticate against credentials in the store: an IAM user's
/// key, and an assumed-role session (which needs its token and expires).
#[test]
fn authenticator_names_the_signer() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let role = iam(
        &s,
        "CreateRole",
        &[("RoleName", "ops"), ("AssumeRolePolicyDocument", &trust)],
    )
    .unwrap();
    let role_id = text(&role, "RoleId");
    let vs = vectors();
    let at = signed_at(&vs[0]);
    s.write(|tx| {
        tx.put(GLOBAL, ACCESS_KEYS, "AKIAIOSFODNN7EXAMPLE", &serde_json::json!({
            "UserName": "dev", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Active",
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "CreateDate": "2026-01-01T00:00:00Z"}))?;
        tx.put(GLOBAL, SESSIONS, "ASIAIOSFODNN7EXAMPLE", &serde_json::json!({
            "AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "SecretAccessKey": "tmpSecretKey1234567890abcdefghijklmnopqr",
            "SessionToken": "FQoGZXIvYXdzEBYaDExampleSessionToken==",
            "ExpirationEpoch": crate::auth::dates::epoch_seconds(at) + 600,
            "IssuedEpoch": crate::auth::dates::epoch_seconds(at) - 60,
            "RoleName": "ops", "RoleSessionName": "s1"}))
    })
    .unwrap();
    let auth = SigV4Authenticator {
        account: ACCT.into(),
    };
    for v in &vs {
        let req = HttpRequest {
            method: &v.method,
            path: &v.path,
            query: &v.query,
            headers: &v.headers,
            body: v.body.as_bytes(),
        };
        let who = auth
            .authenticate(&s, &req, signed_at(v))
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        if v.name == "sts-session-token" {
            assert_eq!(
                who.caller.arn,
                format!("arn:aws:sts::{ACCT}:assumed-role/ops/s1")
            );
            assert_eq!(who.caller.principal_id, format!("{role_id}:s1"));
            let e = auth
                .authenticate(&s, &req, signed_at(v) + std::time::Duration::from_secs(700))
                .unwrap_err();
            assert_eq!((e.code.as_str(), e.status), ("ExpiredToken", 403));
            // Without its token the session key is refused.
            let no_token: Vec<(String, String)> = v
                .headers
                .iter()
                .filter(|(k, _)| k != "X-Amz-Security-Token")
                .cloned()
                .collect();
            let req2 = HttpRequest {
                headers: &no_token,
                ..req
            };
            assert_eq!(
                auth.authenticate(&s, &req2, signed_at(v)).unwrap_err().code,
                "InvalidClientTokenId"
            );
        } else {
            assert_eq!(
                who.caller.kind,
                CallerKind::IamUser { name: "dev".into() },
                "{}",
                v.name
            );
            assert_eq!(
                who.region,
                if v.name.starts_with("ec2") {
                    "eu-west-1"
                } else {
                    "us-east-1"
                }
            );
        }
        let e = auth
            .authenticate(
                &s,
                &req,
                signed_at(v) + std::time::Duration::from_secs(16 * 60),
            )
            .unwrap_err();
        assert!(
            e.code.starts_with("RequestExpired") || e.code.starts_with("ExpiredToken"),
            "{}: {e}",
            v.name
        );
    }
    // Unknown keys: STS/IAM InvalidClientTokenId, EC2 AuthFailure, JSON UnrecognizedClientException.
    s.write(|tx| tx.delete(GLOBAL, ACCESS_KEYS, "AKIAIOSFODNN7EXAMPLE"))
        .unwrap();
    for v in &vs {
        let req = HttpRequest {
            method: &v.method,
            path: &v.path,
            query: &v.query,
            headers: &v.headers,
            body: v.body.as_bytes(),
        };
        let want = match v.name.as_str() {
            "sts-session-token" => continue,
            n if n.starts_with("ec2") => "AuthFailure",
            n if n.starts_with("cloudtrail") => "UnrecognizedClientException",
            _ => "InvalidClientTokenId",
        };
        assert_eq!(
            auth.authenticate(&s, &req, signed_at(v)).unwrap_err().code,
            want,
            "{}",
            v.name
        );
    }
}

#[test]
fn pathed_users_are_authorized_by_their_full_arn() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    iam(&s, "CreateUser", &[("UserName", "ops"), ("Path", "/eng/")]).unwrap();
    let k = iam(&s, "CreateAccessKey", &[("UserName", "dev")]).unwrap();
    let dev = user_caller(&s, &text(&k, "AccessKeyId"));
    let eng = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/eng/*"}}"#;
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "eng"),
            ("PolicyDocument", eng),
        ],
    )
    .unwrap();
    let x = run(
        &s,
        dev.clone(),
        Service::Iam,
        "GetUser",
        &[("UserName", "ops")],
    )
    .unwrap();
    assert_eq!(text(&x, "Arn"), format!("arn:aws:iam::{ACCT}:user/eng/ops"));
    let e = run(&s, dev, Service::Iam, "GetUser", &[("UserName", "dev")]).unwrap_err();
    assert!(
        e.message
            .contains(&format!("on resource: arn:aws:iam::{ACCT}:user/dev ")),
        "{}",
        e.message
    );
}

#[test]
fn policy_documents_have_size_quotas() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    let actions: Vec<String> = (0..200)
        .map(|i| format!("\"ec2:DescribeThing{i:04}\""))
        .collect();
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":[{}],"Resource":"*"}}}}"#,
        actions.join(", ")
    );
    let e = iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "big"),
            ("PolicyDocument", &big),
        ],
    )
    .unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("LimitExceeded", 409));
    assert_eq!(e.message, "Cannot exceed quota for UserPolicySize: 2048");
    // White space does not count, and a managed policy may be larger.
    let spaced = DESCRIBE_ONLY.replace(',', ",                                        ");
    iam(
        &s,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "spaced"),
            ("PolicyDocument", &spaced),
        ],
    )
    .unwrap();
    iam(
        &s,
        "CreatePolicy",
        &[("PolicyName", "big"), ("PolicyDocument", &big)],
    )
    .unwrap();
}

#[test]
fn groups_and_policy_versions_can_be_taken_apart() {
    let s = store();
    iam(&s, "CreateUser", &[("UserName", "dev")]).unwrap();
    iam(&s, "CreateGroup", &[("GroupName", "g")]).unwrap();
    iam(
        &s,
        "AddUserToGroup",
        &[("GroupName", "g"), ("UserName", "dev")],
    )
    .unwrap();
    iam(
        &s,
        "PutGroupPolicy",
        &[
            ("GroupName", "g"),
            ("PolicyName", "p"),
            ("PolicyDocument", DESCRIBE_ONLY),
        ],
    )
    .unwrap();
    assert_eq!(
        text(
            &iam(
                &s,
                "GetGroupPolicy",
                &[("GroupName", "g"), ("PolicyName", "p")]
            )
            .unwrap(),
            "GroupName"
        ),
        "g"
    );
    assert_eq!(
        iam(&s, "DeleteUser", &[("UserName", "dev")])
            .unwrap_err()
            .code,
        "DeleteConflict"
    );
    assert_eq!(
        iam(&s, "DeleteGroup", &[("GroupName", "g")])
            .unwrap_err()
            .code,
        "DeleteConflict"
    );
    iam(
        &s,
        "RemoveUserFromGroup",
        &[("GroupName", "g"), ("UserName", "dev")],
    )
    .unwrap();
    assert_eq!(
        iam(
            &s,
            "RemoveUserFromGroup",
            &[("GroupName", "g"), ("UserName", "dev")]
        )
        .unwrap_err()
        .code,
        "NoSuchEntity"
    );
    iam(&s, "DeleteUser", &[("UserName", "dev")]).unwrap();
    assert_eq!(
        iam(&s, "DeleteGroup", &[("GroupName", "g")])
            .unwrap_err()
            .code,
        "DeleteConflict"
    );
    iam(
        &s,
        "DeleteGroupPolicy",
        &[("GroupName", "g"), ("PolicyName", "p")],
    )
    .unwrap();
    iam(&s, "DeleteGroup", &[("GroupName", "g")]).unwrap();
    let arn = text(
        &iam(
            &s,
            "CreatePolicy",
            &[("PolicyName", "p"), ("PolicyDocument", DESCRIBE_ONLY)],
        )
        .unwrap(),
        "Arn",
    );
    iam(
        &s,
        "CreatePolicyVersion",
        &[("PolicyArn", &arn), ("PolicyDocument", DESCRIBE_ONLY)],
    )
    .unwrap();
    assert_eq!(
        iam(&s, "DeletePolicy", &[("PolicyArn", &arn)])
            .unwrap_err()
            .code,
        "DeleteConflict"
    );
    assert_eq!(
        iam(
            &s,
            "DeletePolicyVersion",
            &[("PolicyArn", &arn), ("VersionId", "v1")]
        )
        .unwrap_err()
        .code,
        "DeleteConflict"
    );
    iam(
        &s,
        "DeletePolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v2")],
    )
    .unwrap();
    iam(&s, "DeletePolicy", &[("PolicyArn", &arn)]).unwrap();
    assert_eq!(
        iam(&s, "GetPolicy", &[("PolicyArn", &arn)])
            .unwrap_err()
            .code,
        "NoSuchEntity"
    );
}
