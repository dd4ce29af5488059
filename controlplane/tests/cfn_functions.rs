//! Intrinsic-function evaluation: every function in short (`!Tag`) and long (`Fn::`) form.

use std::path::Path;

use serde_json::{json, Value};
use vpcsim_controlplane::cfn::{
    parse_template, CfnError, Evaluator, Resolver, StackContext, Template,
};

struct Res;

impl Resolver for Res {
    fn resource_ref(&self, id: &str) -> Option<Value> {
        Some(json!(format!("phys-{}", id.to_lowercase())))
    }
    fn get_att(&self, id: &str, attr: &str) -> Result<Value, String> {
        match attr {
            "Missing" => Err("attribute Missing is not supported".into()),
            "Ipv6CidrBlocks" => Ok(json!(["2600:1f18:abcd:1200::/56"])),
            _ => Ok(json!(format!("{id}:{attr}"))),
        }
    }
}

const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [prod, dev]}
  Count: {Type: Number, Default: 3}
  Zones: {Type: CommaDelimitedList, Default: "a, b ,c"}
  VpcCidr: {Type: String, Default: 10.0.0.0/16}
  Empty: {Type: String, Default: ""}
Mappings:
  RegionMap:
    us-east-1: {Ami: ami-east, Zones: [x, y], Size: 4}
    eu-west-1: {Ami: ami-west}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [1, "1"]]
  Either: {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": [a, b]}]}
  LongNot: {"Fn::Not": [{"Fn::Equals": [!Ref Count, 3]}]}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: !Ref VpcCidr}
  Thing:
    Type: Test::Thing
    Properties:
      V: EXPR
"#;

fn ctx() -> StackContext {
    StackContext::new("us-east-1", "123456789012", "teststack")
}

fn template_with(expr: &str) -> Template {
    let text = TEMPLATE.replace("EXPR", expr);
    parse_template(Path::new("t.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn eval_in(expr: &str, ctx: &StackContext) -> Result<Value, CfnError> {
    let t = template_with(expr);
    let ev = Evaluator::new(&t, ctx).unwrap_or_else(|e| panic!("{e:?}"));
    let thing = t
        .resources
        .iter()
        .find(|r| r.logical_id == "Thing")
        .unwrap();
    let props = ev.eval(&thing.properties, &Res, Some("Thing"))?;
    Ok(props.get("V").cloned().unwrap_or(json!("<removed>")))
}

fn eval(expr: &str) -> Result<Value, CfnError> {
    eval_in(expr, &ctx())
}

fn ok(expr: &str) -> Value {
    eval(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn err(expr: &str) -> CfnError {
    match eval(expr) {
        Ok(v) => panic!("{expr}: expected an error, got {v}"),
        Err(e) => e,
    }
}

/// Both spellings must produce the same value.
fn both(short: &str, long: &str, expected: Value) {
    assert_eq!(ok(short), expected, "short form {short}");
    assert_eq!(ok(long), expected, "long form {long}");
}

#[test]
fn literals_keep_their_json_types() {
    assert_eq!(
        ok("{a: 1, b: 2.5, c: true, d: null, e: [x, -3]}"),
        json!({"a": 1, "b": 2.5, "c": true, "d": null, "e": ["x", -3]})
    );
    assert_eq!(ok("'0123'"), json!("0123"));
}

#[test]
fn ref_parameters_and_pseudo_parameters() {
    both("!Ref Env", "{Ref: Env}", json!("prod"));
    assert_eq!(ok("!Ref Count"), json!(3));
    assert_eq!(ok("!Ref Zones"), json!(["a", "b", "c"]));
    assert_eq!(ok("!Ref Empty"), json!(""));
    assert_eq!(ok("!Ref AWS::Region"), json!("us-east-1"));
    assert_eq!(ok("!Ref AWS::AccountId"), json!("123456789012"));
    assert_eq!(ok("!Ref AWS::StackName"), json!("teststack"));
    assert!(ok("!Ref AWS::StackId")
        .as_str()
        .unwrap()
        .starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/teststack/"));
    assert_eq!(ok("!Ref AWS::Partition"), json!("aws"));
    assert_eq!(ok("!Ref AWS::URLSuffix"), json!("amazonaws.com"));
    assert_eq!(ok("!Ref AWS::NotificationARNs"), json!([]));
    assert_eq!(ok("!Ref Vpc"), json!("phys-vpc"));

    let cn = StackContext::new("cn-north-1", "1", "s");
    assert_eq!(
        eval_in("!Ref AWS::Partition", &cn).unwrap(),
        json!("aws-cn")
    );
    assert_eq!(
        eval_in("!Ref AWS::URLSuffix", &cn).unwrap(),
        json!("amazonaws.com.cn")
    );
    let gov = StackContext::new("us-gov-west-1", "1", "s");
    assert_eq!(
        eval_in("!Ref AWS::Partition", &gov).unwrap(),
        json!("aws-us-gov")
    );
}

#[test]
fn ref_errors() {
    // Unknown names are caught at parse? No: they are caught by dependency_order and eval.
    let e = err("!Ref Nope");
    assert_eq!(e.code, "UnresolvedReference");
    assert_eq!(e.logical_id.as_deref(), Some("Thing"));
    assert!(e.message.contains("Nope"));

    struct Nothing;
    impl Resolver for Nothing {
        fn resource_ref(&self, _: &str) -> Option<Value> {
            None
        }
        fn get_att(&self, _: &str, _: &str) -> Result<Value, String> {
            Err("no".into())
        }
    }
    let t = template_with("!Ref Vpc");
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    let e = ev
        .eval(&t.resources[1].properties, &Nothing, Some("Thing"))
        .unwrap_err();
    assert_eq!(e.code, "UnresolvedReference");
    assert!(e.message.contains("Vpc"));
}

#[test]
fn get_att_forms() {
    both(
        "!GetAtt Vpc.CidrBlock",
        "{'Fn::GetAtt': [Vpc, CidrBlock]}",
        json!("Vpc:CidrBlock"),
    );
    assert_eq!(
        ok("!GetAtt [Vpc, DefaultSecurityGroup]"),
        json!("Vpc:DefaultSecurityGroup")
    );
    // Split at the first dot only: nested attribute names keep their dots.
    assert_eq!(
        ok("!GetAtt Vpc.Endpoint.Address"),
        json!("Vpc:Endpoint.Address")
    );
    let e = err("!GetAtt Vpc.Missing");
    assert_eq!(e.code, "UnresolvedAttribute");
    assert!(e.message.contains("not supported"));
    assert_eq!(err("!GetAtt Nope.Attr").code, "UnresolvedReference");
}

#[test]
fn sub_forms_and_escapes() {
    both(
        "!Sub '${AWS::Region}-${Env}'",
        "{'Fn::Sub': '${AWS::Region}-${Env}'}",
        json!("us-east-1-prod"),
    );
    assert_eq!(
        ok("!Sub 'id=${Vpc} cidr=${Vpc.CidrBlock} n=${Count}'"),
        json!("id=phys-vpc cidr=Vpc:CidrBlock n=3")
    );
    assert_eq!(
        ok("!Sub 'literal ${!Literal} and ${!AWS::Region}'"),
        json!("literal ${Literal} and ${AWS::Region}")
    );
    both(
        "!Sub ['${A}/${B}-${Env}', {A: x, B: !Ref Count}]",
        "{'Fn::Sub': ['${A}/${B}-${Env}', {A: x, B: {Ref: Count}}]}",
        json!("x/3-prod"),
    );
    // Explicit variables shadow parameters of the same name.
    assert_eq!(ok("!Sub ['${Env}', {Env: shadowed}]"), json!("shadowed"));
    assert_eq!(
        ok("!Sub 'no placeholders, $ alone, ${unterminated'"),
        json!("no placeholders, $ alone, ${unterminated")
    );
    assert_eq!(ok("!Sub |\n        line ${Env}\n"), json!("line prod\n"));
    assert_eq!(err("!Sub '${Nope}'").code, "UnresolvedReference");
    assert_eq!(err("!Sub '${Zones}'").code, "InvalidFunction");
    assert_eq!(err("!Sub '${Vpc.Missing}'").code, "UnresolvedAttribute");
}

#[test]
fn join_select_split() {
    both(
        "!Join ['-', [a, !Ref Env, 3]]",
        "{'Fn::Join': ['-', [a, {Ref: Env}, 3]]}",
        json!("a-prod-3"),
    );
    assert_eq!(ok("!Join [',', !Ref Zones]"), json!("a,b,c"));
    assert_eq!(ok("!Join ['', []]"), json!(""));
    assert_eq!(err("!Join [',', a]").code, "InvalidFunction");
    assert_eq!(err("!Join [',', [[nested]]]").code, "InvalidFunction");

    both(
        "!Select [1, [a, b, c]]",
        "{'Fn::Select': ['1', [a, b, c]]}",
        json!("b"),
    );
    assert_eq!(ok("!Select [2, !Ref Zones]"), json!("c"));
    let e = err("!Select [3, [a, b, c]]");
    assert_eq!(e.code, "InvalidFunction");
    assert!(e.message.contains("out of range"), "{e}");
    assert_eq!(err("!Select [-1, [a]]").code, "InvalidFunction");
    assert_eq!(err("!Select [x, [a]]").code, "InvalidFunction");

    both(
        "!Split [',', 'a,b,,c']",
        "{'Fn::Split': [',', 'a,b,,c']}",
        json!(["a", "b", "", "c"]),
    );
    assert_eq!(
        ok("!Select [2, !Split ['/', !Ref AWS::StackId]]"),
        json!("00000000-0000-4000-8000-000000000000")
    );
    assert_eq!(err("!Split ['', abc]").code, "InvalidFunction");
}

#[test]
fn base64() {
    both(
        "!Base64 'hello world'",
        "{'Fn::Base64': 'hello world'}",
        json!("aGVsbG8gd29ybGQ="),
    );
    assert_eq!(
        ok("!Base64 {'Fn::Sub': \"#!/bin/bash\\necho ${Env}\"}"),
        json!("IyEvYmluL2Jhc2gKZWNobyBwcm9k")
    );
    assert_eq!(ok("!Base64 ''"), json!(""));
}

#[test]
fn find_in_map() {
    both(
        "!FindInMap [RegionMap, !Ref 'AWS::Region', Ami]",
        "{'Fn::FindInMap': [RegionMap, {Ref: 'AWS::Region'}, Ami]}",
        json!("ami-east"),
    );
    assert_eq!(
        ok("!FindInMap [RegionMap, us-east-1, Zones]"),
        json!(["x", "y"])
    );
    assert_eq!(ok("!FindInMap [RegionMap, us-east-1, Size]"), json!(4));
    for missing in [
        "[Nope, us-east-1, Ami]",
        "[RegionMap, mars-1, Ami]",
        "[RegionMap, eu-west-1, Zones]",
    ] {
        let e = err(&format!("!FindInMap {missing}"));
        assert_eq!(e.code, "UnresolvedReference", "{missing}");
    }
    assert_eq!(
        ok("!FindInMap [RegionMap, mars-1, Ami, {DefaultValue: ami-default}]"),
        json!("ami-default")
    );
    assert_eq!(
        ok("!FindInMap [RegionMap, us-east-1, Ami, {DefaultValue: ami-default}]"),
        json!("ami-east")
    );
}

#[test]
fn import_value() {
    let e = err("!ImportValue shared-VpcId");
    assert_eq!(e.code, "UnresolvedImport");
    assert!(
        e.message.contains("shared-VpcId") && e.message.contains("--import shared-VpcId=Value"),
        "{e}"
    );

    let mut c = ctx();
    c.imports.insert("shared-VpcId".into(), "vpc-123".into());
    c.imports
        .insert("prod-Subnets".into(), "subnet-1,subnet-2".into());
    assert_eq!(
        eval_in("!ImportValue shared-VpcId", &c).unwrap(),
        json!("vpc-123")
    );
    assert_eq!(
        eval_in("{'Fn::ImportValue': shared-VpcId}", &c).unwrap(),
        json!("vpc-123")
    );
    assert_eq!(
        eval_in(
            "!Split [',', {'Fn::ImportValue': !Sub '${Env}-Subnets'}]",
            &c
        )
        .unwrap(),
        json!(["subnet-1", "subnet-2"])
    );
}

#[test]
fn get_azs() {
    both(
        "!GetAZs ''",
        "{'Fn::GetAZs': ''}",
        json!([
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1d",
            "us-east-1e",
            "us-east-1f"
        ]),
    );
    assert_eq!(ok("!GetAZs {Ref: 'AWS::Region'}"), ok("!GetAZs ''"));
    assert_eq!(
        ok("!GetAZs us-west-2"),
        json!(["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"])
    );
    assert_eq!(
        ok("!GetAZs eu-west-1"),
        json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    );
    assert_eq!(
        ok("!GetAZs xx-test-9"),
        json!(["xx-test-9a", "xx-test-9b", "xx-test-9c"])
    );
    assert_eq!(ok("!Select [0, !GetAZs '']"), json!("us-east-1a"));
    let eu = StackContext::new("eu-west-1", "1", "s");
    assert_eq!(
        eval_in("!GetAZs ''", &eu).unwrap(),
        json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    );
}

#[test]
fn cidr() {
    both(
        "!Cidr ['10.0.0.0/16', 4, 8]",
        "{'Fn::Cidr': ['10.0.0.0/16', '4', '8']}",
        json!(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]),
    );
    assert_eq!(
        ok("!Cidr ['10.0.0.0/24', 2, 4]"),
        json!(["10.0.0.0/28", "10.0.0.16/28"])
    );
    // AWS docs example: !Cidr [ "192.168.0.0/24", 6, 5 ]
    assert_eq!(
        ok("!Cidr ['192.168.0.0/24', 6, 5]"),
        json!([
            "192.168.0.0/27",
            "192.168.0.32/27",
            "192.168.0.64/27",
            "192.168.0.96/27",
            "192.168.0.128/27",
            "192.168.0.160/27"
        ])
    );
    assert_eq!(
        ok("!Select [1, !Cidr [!Ref VpcCidr, 16, 12]]"),
        json!("10.0.16.0/20")
    );
    // IPv6: /56 split into /64s.
    assert_eq!(
        ok("!Cidr [!Select [0, !GetAtt Vpc.Ipv6CidrBlocks], 3, 64]"),
        json!([
            "2600:1f18:abcd:1200::/64",
            "2600:1f18:abcd:1201::/64",
            "2600:1f18:abcd:1202::/64"
        ])
    );
    for bad in [
        "['10.0.0.0/24', 17, 4]",
        "['10.0.0.0/24', 1, 9]",
        "['not-a-cidr', 1, 4]",
        "['10.0.0.0/16', 0, 8]",
    ] {
        assert_eq!(
            err(&format!("!Cidr {bad}")).code,
            "InvalidFunction",
            "{bad}"
        );
    }
}

#[test]
fn cidr_ipv6_vectors() {
    assert_eq!(
        ok("!Cidr ['2001:db8::/32', 1, 96]"),
        json!(["2001:db8::/32"])
    );
    assert_eq!(
        ok("!Cidr ['2001:db8:1234:5600::/56', 2, 64]"),
        json!(["2001:db8:1234:5600::/64", "2001:db8:1234:5601::/64"])
    );
    assert_eq!(
        ok("!Cidr ['2001:db8::/64', 2, 4]"),
        json!(["2001:db8::/124", "2001:db8::10/124"])
    );
}

#[test]
fn conditions_and_if() {
    both(
        "!If [IsProd, big, small]",
        "{'Fn::If': [IsProd, big, small]}",
        json!("big"),
    );
    assert_eq!(ok("!If [IsDev, big, small]"), json!("small"));
    assert_eq!(ok("!If [Both, yes, no]"), json!("yes"));
    assert_eq!(ok("!If [Either, yes, no]"), json!("no"));
    assert_eq!(ok("!If [LongNot, yes, no]"), json!("no"));
    both(
        "!Equals [!Ref Env, prod]",
        "{'Fn::Equals': [{Ref: Env}, prod]}",
        json!(true),
    );
    assert_eq!(ok("!Equals [!Ref Count, '3']"), json!(true));
    assert_eq!(ok("!Equals [true, 'true']"), json!(true));
    both(
        "!Not [!Equals [a, a]]",
        "{'Fn::Not': [{'Fn::Equals': [a, a]}]}",
        json!(false),
    );
    both(
        "!And [!Equals [a, a], !Condition IsDev]",
        "{'Fn::And': [{'Fn::Equals': [a, a]}, {Condition: IsDev}]}",
        json!(false),
    );
    both(
        "!Or [!Equals [a, b], !Condition IsProd]",
        "{'Fn::Or': [{'Fn::Equals': [a, b]}, {Condition: IsProd}]}",
        json!(true),
    );
    assert_eq!(ok("!Condition IsProd"), json!(true));
    // Only the selected branch is evaluated, so the broken one does no harm.
    assert_eq!(ok("!If [IsProd, ok, !Ref Nope]"), json!("ok"));
    // Unknown condition names are reported once, up front, by Evaluator::new.
    let t = template_with("!If [NoSuchCondition, a, b]");
    let c = ctx();
    let errs = Evaluator::new(&t, &c).err().unwrap();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "UnresolvedReference");
    assert_eq!(errs[0].logical_id.as_deref(), Some("Thing"));
    assert!(errs[0].message.contains("NoSuchCondition"));

    let t = template_with("x");
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    assert!(ev.condition("IsProd").unwrap());
    assert!(!ev.condition("IsDev").unwrap());
    assert!(ev.condition("Nope").is_err());

    let mut dev = ctx();
    dev.parameter_overrides.insert("Env".into(), "dev".into());
    assert_eq!(
        eval_in("!If [IsProd, big, small]", &dev).unwrap(),
        json!("small")
    );
    assert_eq!(
        eval_in("!If [Either, yes, no]", &dev).unwrap(),
        json!("yes")
    );
}

#[test]
fn no_value_removes_keys_and_elements() {
    assert_eq!(ok("!Ref AWS::NoValue"), json!("<removed>"));
    assert_eq!(
        ok("!If [IsProd, !Ref 'AWS::NoValue', kept]"),
        json!("<removed>")
    );
    assert_eq!(
        ok("{a: 1, b: !Ref 'AWS::NoValue', c: {'Fn::If': [IsDev, x, {Ref: 'AWS::NoValue'}]}}"),
        json!({"a": 1})
    );
    assert_eq!(
        ok("[a, !Ref 'AWS::NoValue', !If [IsProd, !Ref 'AWS::NoValue', b], c]"),
        json!(["a", "c"])
    );
    assert_eq!(ok("!Join ['-', [a, !Ref 'AWS::NoValue', b]]"), json!("a-b"));
    assert_eq!(
        err("{'Fn::Base64': !Ref 'AWS::NoValue'}").code,
        "InvalidFunction"
    );
}

#[test]
fn length_and_to_json_string() {
    both("!Length [a, b, c]", "{'Fn::Length': [a, b, c]}", json!(3));
    assert_eq!(ok("{'Fn::Length': !Ref Zones}"), json!(3));
    both(
        "!ToJsonString {a: 1}",
        "{'Fn::ToJsonString': {a: 1}}",
        json!(r#"{"a":1}"#),
    );
    assert_eq!(ok("!ToJsonString [!Ref Env]"), json!(r#"["prod"]"#));
}

#[test]
fn unsupported_functions_fail_only_when_evaluated() {
    let e = err("!Transform {Name: AWS::Include, Parameters: {Location: s3://x}}");
    assert_eq!(e.code, "UnsupportedFunction");
    assert!(e.message.contains("Fn::Transform"));
    let e = err("{'Fn::Frobnicate': [1]}");
    assert_eq!(e.code, "UnsupportedFunction");
    assert!(e.message.contains("Fn::Frobnicate"));
    let e = err("!Frob x");
    assert_eq!(e.code, "UnsupportedFunction");
    assert!(e.message.contains("!Frob"));
    // Inside an unselected branch it is never evaluated.
    assert_eq!(ok("!If [IsDev, !Frob x, fine]"), json!("fine"));
}

#[test]
fn wrong_argument_shapes_are_invalid_function() {
    for bad in [
        "!Join [a]",
        "!Select [1, 2, 3]",
        "!Split x",
        "!Cidr [a, b]",
        "!If [a, b]",
        "!Equals [a]",
        "!And [!Equals [a, a]]",
        "!Not [a, b]",
        "!FindInMap [a, b]",
        "!FindInMap [a, b, c, d]",
        "!GetAtt NoDot",
        "!GetAtt [a, b, c]",
        "!Ref [a]",
        "!Sub [1, 2, 3]",
        "{'Fn::Join': 'x'}",
    ] {
        let text = TEMPLATE.replace("EXPR", bad);
        let e = parse_template(Path::new("t.yaml"), &text).unwrap_err();
        assert_eq!(e.code, "InvalidFunction", "{bad}: {e}");
        assert_eq!(e.logical_id.as_deref(), Some("Thing"), "{bad}");
    }
}

#[test]
fn property_named_condition_is_not_a_function() {
    // IAM policy statements have a Condition key; a one-key map outside a condition
    // expression is an ordinary map.
    assert_eq!(
        ok("{Condition: {StringEquals: {a: b}}}"),
        json!({"Condition": {"StringEquals": {"a": "b"}}})
    );
}
