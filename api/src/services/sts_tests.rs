use std::sync::Arc;

use crate::auth::credentials::lookup;
use crate::call::CallerKind;
use crate::service::Service;
use crate::services::iam::tests::{new_call, root, run, text, user_caller, ACCT};
use crate::store::Store;

fn setup() -> (Arc<Store>, crate::call::Caller) {
    let s = Arc::new(Store::open(None).unwrap());
    run(
        &s,
        root(),
        Service::Iam,
        "CreateUser",
        &[("UserName", "dev")],
    )
    .unwrap();
    let k = run(
        &s,
        root(),
        Service::Iam,
        "CreateAccessKey",
        &[("UserName", "dev")],
    )
    .unwrap();
    let dev = user_caller(&s, &text(&k, "AccessKeyId"));
    (s, dev)
}

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

#[test]
fn get_caller_identity_needs_no_permission() {
    let (s, dev) = setup();
    let deny_all =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#;
    run(
        &s,
        root(),
        Service::Iam,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "d"),
            ("PolicyDocument", deny_all),
        ],
    )
    .unwrap();
    let x = run(&s, dev.clone(), Service::Sts, "GetCallerIdentity", &[]).unwrap();
    assert_eq!(text(&x, "Arn"), format!("arn:aws:iam::{ACCT}:user/dev"));
    assert_eq!(text(&x, "Account"), ACCT);
    assert_eq!(text(&x, "UserId"), dev.principal_id);
}

#[test]
fn assume_role_checks_trust_and_identity() {
    let (s, dev) = setup();
    let role_arn = format!("arn:aws:iam::{ACCT}:role/ops");
    // Trust names the account: the user also needs an identity policy allowing it.
    run(
        &s,
        root(),
        Service::Iam,
        "CreateRole",
        &[
            ("RoleName", "ops"),
            ("AssumeRolePolicyDocument", &trust(ACCT)),
            ("MaxSessionDuration", "7200"),
        ],
    )
    .unwrap();
    let params = [("RoleArn", role_arn.as_str()), ("RoleSessionName", "s1")];
    let e = run(&s, dev.clone(), Service::Sts, "AssumeRole", &params).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403));
    assert!(e
        .message
        .contains(&format!("sts:AssumeRole on resource: {role_arn}")));
    let allow = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/ops"}}"#;
    run(
        &s,
        root(),
        Service::Iam,
        "PutUserPolicy",
        &[
            ("UserName", "dev"),
            ("PolicyName", "a"),
            ("PolicyDocument", allow),
        ],
    )
    .unwrap();
    let x = run(&s, dev.clone(), Service::Sts, "AssumeRole", &params).unwrap();
    let key = text(&x, "AccessKeyId");
    assert!(key.starts_with("ASIA"));
    assert!(!text(&x, "SessionToken").is_empty());
    assert_eq!(
        text(&x, "Arn"),
        format!("arn:aws:sts::{ACCT}:assumed-role/ops/s1")
    );
    assert!(text(&x, "AssumedRoleId").ends_with(":s1"));
    // The session signs as the role and has the role's permissions.
    let cred = s.read(|tx| lookup(tx, ACCT, &key)).unwrap().unwrap();
    assert!(matches!(cred.caller.kind, CallerKind::AssumedRole { ref role, .. } if role == "ops"));
    assert_eq!(
        cred.session_token.as_deref(),
        Some(text(&x, "SessionToken").as_str())
    );
    let who = run(
        &s,
        cred.caller.clone(),
        Service::Sts,
        "GetCallerIdentity",
        &[],
    )
    .unwrap();
    assert_eq!(
        text(&who, "Arn"),
        format!("arn:aws:sts::{ACCT}:assumed-role/ops/s1")
    );
    assert_eq!(
        run(&s, cred.caller.clone(), Service::Iam, "ListUsers", &[])
            .unwrap_err()
            .code,
        "AccessDenied"
    );
    run(
        &s,
        root(),
        Service::Iam,
        "AttachRolePolicy",
        &[
            ("RoleName", "ops"),
            ("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ],
    )
    .unwrap();
    run(&s, cred.caller.clone(), Service::Iam, "ListUsers", &[]).unwrap();
    // Durations: 900..=MaxSessionDuration; chained sessions at most an hour.
    let long = [
        ("RoleArn", role_arn.as_str()),
        ("RoleSessionName", "s2"),
        ("DurationSeconds", "7201"),
    ];
    assert_eq!(
        run(&s, dev.clone(), Service::Sts, "AssumeRole", &long)
            .unwrap_err()
            .code,
        "ValidationError"
    );
    let short = [
        ("RoleArn", role_arn.as_str()),
        ("RoleSessionName", "s2"),
        ("DurationSeconds", "899"),
    ];
    assert_eq!(
        run(&s, dev.clone(), Service::Sts, "AssumeRole", &short)
            .unwrap_err()
            .code,
        "ValidationError"
    );
    let ok = [
        ("RoleArn", role_arn.as_str()),
        ("RoleSessionName", "s2"),
        ("DurationSeconds", "7200"),
    ];
    run(&s, dev.clone(), Service::Sts, "AssumeRole", &ok).unwrap();
    let bad_name = [("RoleArn", role_arn.as_str()), ("RoleSessionName", "a b")];
    assert_eq!(
        run(&s, dev, Service::Sts, "AssumeRole", &bad_name)
            .unwrap_err()
            .code,
        "ValidationError"
    );
}

#[test]
fn trust_naming_the_user_is_enough_and_others_are_refused() {
    let (s, dev) = setup();
    run(
        &s,
        root(),
        Service::Iam,
        "CreateRole",
        &[
            ("RoleName", "direct"),
            ("AssumeRolePolicyDocument", &trust(&dev.arn)),
        ],
    )
    .unwrap();
    run(
        &s,
        root(),
        Service::Iam,
        "CreateRole",
        &[
            ("RoleName", "other"),
            (
                "AssumeRolePolicyDocument",
                &trust("arn:aws:iam::999999999999:root"),
            ),
        ],
    )
    .unwrap();
    let arn = |n: &str| format!("arn:aws:iam::{ACCT}:role/{n}");
    run(
        &s,
        dev.clone(),
        Service::Sts,
        "AssumeRole",
        &[("RoleArn", &arn("direct")), ("RoleSessionName", "x1")],
    )
    .unwrap();
    let e = run(
        &s,
        dev.clone(),
        Service::Sts,
        "AssumeRole",
        &[("RoleArn", &arn("other")), ("RoleSessionName", "x1")],
    )
    .unwrap_err();
    assert_eq!(e.code, "AccessDenied");
    let e = run(
        &s,
        dev,
        Service::Sts,
        "AssumeRole",
        &[("RoleArn", &arn("missing")), ("RoleSessionName", "x1")],
    )
    .unwrap_err();
    assert_eq!(e.code, "AccessDenied");
}

#[test]
fn get_session_token_for_users_not_sessions() {
    let (s, dev) = setup();
    let x = run(
        &s,
        dev.clone(),
        Service::Sts,
        "GetSessionToken",
        &[("DurationSeconds", "900")],
    )
    .unwrap();
    let key = text(&x, "AccessKeyId");
    let cred = s.read(|tx| lookup(tx, ACCT, &key)).unwrap().unwrap();
    assert_eq!(cred.caller.kind, CallerKind::IamUser { name: "dev".into() });
    let e = run(&s, cred.caller, Service::Sts, "GetSessionToken", &[]).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403));
    assert_eq!(
        run(
            &s,
            root(),
            Service::Sts,
            "GetSessionToken",
            &[("DurationSeconds", "7200")]
        )
        .unwrap_err()
        .code,
        "ValidationError"
    );
    let c = new_call(&s, dev, Service::Sts, "Nope", &[]);
    assert_eq!(super::handle(&s, &c).unwrap_err().code, "InvalidAction");
}
