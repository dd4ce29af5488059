use super::*;
use crate::auth::conditions::Context;

fn policy(doc: &str) -> Policy {
    Policy::parse(doc, PolicyKind::Identity).unwrap()
}

fn ctx(pairs: &[(&str, &[&str])]) -> Context {
    let mut c = Context::new();
    for (k, v) in pairs {
        c.set_all(k, v.iter().map(|s| s.to_string()).collect());
    }
    c
}

fn decide(doc: &str, action: &str, resource: &str, c: &Context) -> Decision {
    evaluate(&[policy(doc)], action, resource, c)
}

const VPC: &str = "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc";

#[test]
fn wildcards_in_actions_are_case_insensitive() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ec2:Describe*","iam:*AccessKey*"],"Resource":"*"}}"#;
    let c = Context::new();
    assert_eq!(decide(doc, "ec2:DescribeVpcs", VPC, &c), Decision::Allow);
    assert_eq!(decide(doc, "EC2:describevpcs", VPC, &c), Decision::Allow);
    assert_eq!(decide(doc, "iam:ListAccessKeys", "*", &c), Decision::Allow);
    assert_eq!(
        decide(doc, "ec2:CreateVpc", VPC, &c),
        Decision::ImplicitDeny
    );
    let q = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:?reateVpc","Resource":"*"}}"#;
    assert_eq!(decide(q, "ec2:CreateVpc", VPC, &c), Decision::Allow);
    assert_eq!(
        decide(q, "ec2:RecreateVpc", VPC, &c),
        Decision::ImplicitDeny
    );
}

#[test]
fn explicit_deny_beats_allow() {
    let allow = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let deny = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*"}]}"#,
    );
    let c = Context::new();
    let both = [allow.clone(), deny];
    assert_eq!(
        evaluate(&both, "ec2:TerminateInstances", "*", &c),
        Decision::ExplicitDeny
    );
    assert_eq!(
        evaluate(&both, "ec2:RunInstances", "*", &c),
        Decision::Allow
    );
    assert_eq!(
        evaluate(&[], "ec2:RunInstances", "*", &c),
        Decision::ImplicitDeny
    );
}

#[test]
fn not_action_and_not_resource() {
    // AWS's example: allow everything except IAM.
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#;
    let c = Context::new();
    assert_eq!(decide(doc, "ec2:RunInstances", "*", &c), Decision::Allow);
    assert_eq!(
        decide(doc, "iam:CreateUser", "*", &c),
        Decision::ImplicitDeny
    );
    // Deny with NotAction denies everything else.
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["ec2:Describe*"],"Resource":"*"}]}"#;
    assert_eq!(decide(deny, "ec2:DescribeVpcs", "*", &c), Decision::Allow);
    assert_eq!(
        decide(deny, "ec2:CreateVpc", "*", &c),
        Decision::ExplicitDeny
    );
    let nr = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","NotResource":"arn:aws:ec2:*:*:vpc/vpc-0abc"}}"#;
    assert_eq!(decide(nr, "ec2:DeleteVpc", VPC, &c), Decision::ImplicitDeny);
    assert_eq!(
        decide(
            nr,
            "ec2:DeleteVpc",
            "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1",
            &c
        ),
        Decision::Allow
    );
}

#[test]
fn resource_arns_match_per_segment() {
    assert!(arn_like("arn:aws:ec2:*:123456789012:vpc/*", VPC));
    assert!(arn_like("arn:aws:ec2:us-east-?:*:*", VPC));
    assert!(!arn_like("arn:aws:ec2:us-west-2:*:vpc/*", VPC));
    assert!(!arn_like("arn:aws:ec2:*:*:subnet/*", VPC));
    // Resource values are case-sensitive.
    assert!(!arn_like("arn:aws:ec2:*:*:VPC/*", VPC));
    assert!(arn_like("*", VPC));
    assert!(glob("a*b?c", "axxbyc", false));
    assert!(!glob("a*b?c", "axxbc", false));
}

#[test]
fn policy_variables_resolve_from_the_context() {
    // AWS's example: each user manages their own access keys.
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}"#;
    let c = ctx(&[("aws:username", &["dev"])]);
    assert_eq!(
        decide(
            doc,
            "iam:CreateAccessKey",
            "arn:aws:iam::123456789012:user/dev",
            &c
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            doc,
            "iam:CreateAccessKey",
            "arn:aws:iam::123456789012:user/ops",
            &c
        ),
        Decision::ImplicitDeny
    );
    // No value: the pattern matches nothing.
    assert_eq!(
        decide(
            doc,
            "iam:CreateAccessKey",
            "arn:aws:iam::123456789012:user/dev",
            &Context::new()
        ),
        Decision::ImplicitDeny
    );
    // Version 2008-10-17 treats `${…}` literally.
    let old = doc.replace("2012-10-17", "2008-10-17");
    assert_eq!(
        decide(
            &old,
            "iam:CreateAccessKey",
            "arn:aws:iam::123456789012:user/${aws:username}",
            &c
        ),
        Decision::Allow
    );
    assert_eq!(
        substitute("a${*}b${aws:x, 'def'}", &Context::new()).as_deref(),
        Some("a*bdef")
    );
}

fn cond(block: &str, c: &Context) -> bool {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{block}}}}}"#
    );
    decide(&doc, "ec2:RunInstances", "*", c) == Decision::Allow
}

#[test]
fn string_operators() {
    let c = ctx(&[("aws:PrincipalTag/team", &["Web"])]);
    assert!(cond(
        r#"{"StringEquals":{"aws:PrincipalTag/team":"Web"}}"#,
        &c
    ));
    // Key names are case-insensitive, values per operator.
    assert!(cond(
        r#"{"StringEquals":{"AWS:principaltag/Team":["db","Web"]}}"#,
        &c
    ));
    assert!(!cond(
        r#"{"StringEquals":{"aws:PrincipalTag/team":"web"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"web"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"StringNotEquals":{"aws:PrincipalTag/team":["db","ops"]}}"#,
        &c
    ));
    assert!(!cond(
        r#"{"StringNotEquals":{"aws:PrincipalTag/team":["db","Web"]}}"#,
        &c
    ));
    assert!(cond(
        r#"{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"db"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"StringLike":{"aws:PrincipalTag/team":"W?b*"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"StringNotLike":{"aws:PrincipalTag/team":"d*"}}"#,
        &c
    ));
    // Absent key: false, but true for negated operators and IfExists.
    let empty = Context::new();
    assert!(!cond(
        r#"{"StringEquals":{"aws:PrincipalTag/team":"Web"}}"#,
        &empty
    ));
    assert!(cond(
        r#"{"StringNotEquals":{"aws:PrincipalTag/team":"Web"}}"#,
        &empty
    ));
    assert!(cond(
        r#"{"StringEqualsIfExists":{"aws:PrincipalTag/team":"Web"}}"#,
        &empty
    ));
    assert!(!cond(
        r#"{"StringEqualsIfExists":{"aws:PrincipalTag/team":"db"}}"#,
        &c
    ));
}

#[test]
fn several_operators_and_keys_are_anded() {
    let c = ctx(&[
        ("aws:RequestedRegion", &["eu-west-1"]),
        ("aws:SourceIp", &["203.0.113.9"]),
    ]);
    assert!(cond(
        r#"{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &c
    ));
    assert!(!cond(
        r#"{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}"#,
        &c
    ));
    assert!(!cond(
        r#"{"StringEquals":{"aws:RequestedRegion":"eu-west-1","aws:SourceIp":"x"}}"#,
        &c
    ));
}

#[test]
fn ip_numeric_date_bool_null_binary() {
    let c = ctx(&[
        ("aws:SourceIp", &["2001:db8::5"]),
        ("aws:EpochTime", &["1700000000"]),
        ("aws:CurrentTime", &["2026-12-07T20:00:00Z"]),
        ("aws:SecureTransport", &["false"]),
        ("s3:max-keys", &["10"]),
        ("x:bin", &["QmluYXJ5"]),
    ]);
    assert!(cond(
        r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}"#,
        &c
    ));
    assert!(cond(
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &c
    ));
    assert!(cond(r#"{"IpAddress":{"aws:SourceIp":"2001:db8::5"}}"#, &c));
    assert!(cond(
        r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
        &c
    ));
    assert!(!cond(r#"{"NumericLessThan":{"s3:max-keys":10}}"#, &c));
    assert!(cond(r#"{"NumericNotEquals":{"s3:max-keys":"11"}}"#, &c));
    assert!(cond(
        r#"{"NumericGreaterThan":{"aws:EpochTime":1600000000}}"#,
        &c
    ));
    assert!(cond(
        r#"{"NumericGreaterThanEquals":{"aws:EpochTime":1700000000}}"#,
        &c
    ));
    assert!(cond(
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"DateLessThanEquals":{"aws:EpochTime":"2023-11-14T22:13:20Z"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2026-12-07T20:00:00Z"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"DateEquals":{"aws:CurrentTime":"2026-12-07T20:00:00Z"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"DateNotEquals":{"aws:CurrentTime":"2026-12-07T20:00:01Z"}}"#,
        &c
    ));
    assert!(cond(r#"{"Bool":{"aws:SecureTransport":"false"}}"#, &c));
    assert!(cond(r#"{"Bool":{"aws:SecureTransport":false}}"#, &c));
    assert!(cond(r#"{"BinaryEquals":{"x:bin":"QmluYXJ5"}}"#, &c));
    assert!(cond(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#, &c));
    assert!(cond(r#"{"Null":{"aws:SourceIp":"false"}}"#, &c));
    assert!(!cond(r#"{"Null":{"aws:SourceIp":"true"}}"#, &c));
}

#[test]
fn mfa_is_absent_for_long_term_keys() {
    // AWS's warning: Bool on an absent key is false, so this Deny does not deny long-term keys;
    // BoolIfExists does.
    let base = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"OP":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let long_term = Context::new();
    let session = ctx(&[("aws:MultiFactorAuthPresent", &["false"])]);
    let bool_doc = base.replace("OP", "Bool");
    let if_exists = base.replace("OP", "BoolIfExists");
    assert_eq!(
        decide(&bool_doc, "ec2:RunInstances", "*", &long_term),
        Decision::Allow
    );
    assert_eq!(
        decide(&bool_doc, "ec2:RunInstances", "*", &session),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(&if_exists, "ec2:RunInstances", "*", &long_term),
        Decision::ExplicitDeny
    );
}

#[test]
fn multivalued_keys() {
    let tags = ctx(&[("aws:TagKeys", &["Name", "env"])]);
    let none = Context::new();
    let all = r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["Name","env","team"]}}"#;
    let any = r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#;
    assert!(cond(all, &tags));
    assert!(!cond(
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["Name"]}}"#,
        &tags
    ));
    // ForAllValues is true when the key is absent (hence AWS's advice to pair it with Null).
    assert!(cond(all, &none));
    assert!(cond(any, &tags));
    assert!(!cond(any, &none));
    assert!(cond(
        r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["Name"]}}"#,
        &tags
    ));
    assert!(!cond(
        r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["Name"]}}"#,
        &tags
    ));
    assert!(cond(
        r#"{"ForAllValues:StringLike":{"aws:TagKeys":["*"]}}"#,
        &tags
    ));
}

#[test]
fn arn_conditions() {
    let c = ctx(&[
        ("ec2:Vpc", &[VPC]),
        ("aws:PrincipalArn", &["arn:aws:iam::123456789012:user/dev"]),
    ]);
    assert!(cond(
        &format!(r#"{{"ArnEquals":{{"ec2:Vpc":"{VPC}"}}}}"#),
        &c
    ));
    assert!(cond(
        r#"{"ArnLike":{"ec2:Vpc":"arn:aws:ec2:*:*:vpc/vpc-0*"}}"#,
        &c
    ));
    assert!(cond(
        r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
        &c
    ));
    assert!(!cond(
        r#"{"ArnNotEquals":{"ec2:Vpc":"arn:aws:ec2:*:*:vpc/*"}}"#,
        &c
    ));
    // Policy variables inside condition values.
    let u = ctx(&[
        ("aws:username", &["dev"]),
        ("aws:PrincipalArn", &["arn:aws:iam::123456789012:user/dev"]),
    ]);
    assert!(cond(
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}"#,
        &u
    ));
}

#[test]
fn malformed_documents_are_refused() {
    for (doc, why) in [
        ("not json", "Syntax errors"),
        (r#"{"Version":"2012-10-17"}"#, "Statement"),
        (r#"{"Version":"2013-01-01","Statement":[]}"#, "version"),
        (r#"{"Statement":{"Action":"*","Resource":"*"}}"#, "Effect"),
        (
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Action",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
            "Resource",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}}"#,
            "both",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringFoo":{"a":"b"}}}}"#,
            "Condition",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
            "principal",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Bogus":1}}"#,
            "Unknown",
        ),
    ] {
        let e = Policy::parse(doc, PolicyKind::Identity).unwrap_err();
        assert!(e.contains(why), "{doc}: {e}");
    }
    assert!(Policy::parse(
        r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
        PolicyKind::Trust
    )
    .is_err());
}

#[test]
fn trust_policies_name_principals() {
    let p = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/dev"]},"Action":"sts:AssumeRole"}}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let st = &p.statements[0];
    assert!(st.names_principal(
        "123456789012",
        &["arn:aws:iam::123456789012:user/dev".into()]
    ));
    assert!(!st.names_principal(
        "123456789012",
        &["arn:aws:iam::123456789012:user/ops".into()]
    ));
    let acct = Policy::parse(
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    assert!(acct.statements[0].names_principal(
        "123456789012",
        &["arn:aws:iam::123456789012:user/ops".into()]
    ));
    let svc = Policy::parse(
        r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    assert!(!svc.statements[0].names_principal(
        "123456789012",
        &["arn:aws:iam::123456789012:user/ops".into()]
    ));
}
