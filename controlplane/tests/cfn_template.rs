//! Template parsing, parameters, conditions, dependency ordering and outputs.

use std::path::Path;

use serde_json::{json, Value};
use vpcsim_controlplane::cfn::{
    parse_template, CfnError, Evaluator, Intrinsic, Node, Resolver, StackContext, Template,
};

struct Res;

impl Resolver for Res {
    fn resource_ref(&self, id: &str) -> Option<Value> {
        Some(json!(format!("phys-{}", id.to_lowercase())))
    }
    fn get_att(&self, id: &str, attr: &str) -> Result<Value, String> {
        Ok(json!(format!("{id}:{attr}")))
    }
}

fn parse(text: &str) -> Template {
    parse_template(Path::new("t.yaml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> CfnError {
    parse_template(Path::new("t.yaml"), text).expect_err("expected a parse error")
}

fn ctx() -> StackContext {
    StackContext::new("us-east-1", "123456789012", "s")
}

fn ids(t: &Template, order: &[usize]) -> Vec<String> {
    order
        .iter()
        .map(|&i| t.resources[i].logical_id.clone())
        .collect()
}

fn value_of(t: &Template, id: &str) -> Node {
    let r = t.resources.iter().find(|r| r.logical_id == id).unwrap();
    match &r.properties {
        Node::Map(entries) => entries.iter().find(|(k, _)| k == "V").unwrap().1.clone(),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- parsing

#[test]
fn yaml_template_sections() {
    let t = parse(
        r#"
AWSTemplateFormatVersion: "2010-09-09"
Description: A test
Parameters:
  Name: {Type: String, NoEcho: true, AllowedValues: [a, b]}
Mappings: {M: {K: {V: 1}}}
Conditions:
  C: !Equals [a, a]
Resources:
  Zeta: {Type: T::Z, Condition: C, DependsOn: Alpha}
  Alpha: {Type: T::A, DependsOn: [Zeta2], Properties: {X: 1}}
  Zeta2: {Type: T::Z}
Outputs:
  Out: {Value: !Ref Alpha, Export: {Name: !Sub '${AWS::StackName}-Out'}, Condition: C}
"#,
    );
    assert_eq!(t.description.as_deref(), Some("A test"));
    assert_eq!(t.parameters.len(), 1);
    assert!(t.parameters[0].no_echo);
    assert_eq!(t.parameters[0].allowed_values, vec!["a", "b"]);
    assert_eq!(t.conditions.len(), 1);
    // File order is kept.
    let names: Vec<_> = t.resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(names, vec!["Zeta", "Alpha", "Zeta2"]);
    assert_eq!(t.resources[0].condition.as_deref(), Some("C"));
    assert_eq!(t.resources[0].depends_on, vec!["Alpha"]);
    assert_eq!(t.resources[1].depends_on, vec!["Zeta2"]);
    assert_eq!(t.resources[2].properties, Node::Map(vec![]));
    assert_eq!(t.outputs.len(), 1);
    assert_eq!(t.output_details[0].condition.as_deref(), Some("C"));
    assert!(t.output_details[0].export_name.is_some());
}

#[test]
fn json_template() {
    let text = r#"  {
  "Parameters": {"Cidr": {"Type": "String", "Default": "10.1.0.0/16"}},
  "Resources": {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "Cidr"}, "Enable": true, "N": 5}},
    "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
      "VpcId": {"Ref": "Vpc"},
      "CidrBlock": {"Fn::Select": [1, {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 4, 8]}]},
      "AvailabilityZone": {"Fn::Select": ["0", {"Fn::GetAZs": ""}]}
    }}
  }
}"#;
    let t = parse_template(Path::new("t.json"), text).unwrap();
    assert_eq!(t.resources[1].logical_id, "Subnet");
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    assert_eq!(
        ids(&t, &ev.dependency_order().unwrap()),
        vec!["Vpc", "Subnet"]
    );
    assert_eq!(
        ev.eval(&t.resources[0].properties, &Res, Some("Vpc"))
            .unwrap(),
        json!({"CidrBlock": "10.1.0.0/16", "Enable": true, "N": 5})
    );
    struct Cidr;
    impl Resolver for Cidr {
        fn resource_ref(&self, _: &str) -> Option<Value> {
            Some(json!("vpc-1"))
        }
        fn get_att(&self, _: &str, _: &str) -> Result<Value, String> {
            Ok(json!("10.1.0.0/16"))
        }
    }
    assert_eq!(
        ev.eval(&t.resources[1].properties, &Cidr, Some("Subnet"))
            .unwrap(),
        json!({"VpcId": "vpc-1", "CidrBlock": "10.1.1.0/24", "AvailabilityZone": "us-east-1a"})
    );
}

#[test]
fn json_errors_carry_line_and_column() {
    let e = parse_template(
        Path::new("t.json"),
        "{\n  \"Resources\": {\n    \"A\": [1,\n  }\n}",
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidTemplate");
    assert!(e.message.contains("line 4"), "{e}");
    let e = parse_template(
        Path::new("t.json"),
        r#"{"Resources": {"A": {"Type": "X"}, "A": {"Type": "Y"}}}"#,
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidTemplate");
    assert!(
        e.message.contains("duplicate") && e.message.contains("line 1"),
        "{e}"
    );
    let e = parse_template(Path::new("t.json"), r#"{"Resources": {}} trailing"#).unwrap_err();
    assert_eq!(e.code, "InvalidTemplate");
}

#[test]
fn bad_yaml_reports_line_numbers() {
    let e = parse_err("Resources:\n  A:\n    Type: X\n    Properties: [1,\n  B: 2\n");
    assert_eq!(e.code, "InvalidTemplate");
    assert!(
        e.message.contains("line 6") && e.message.contains("line 4"),
        "{e}"
    );
    let e = parse_err("Resources:\n  A: {Type: X}\n  A: {Type: Y}\n");
    assert_eq!(e.code, "InvalidTemplate");
    assert!(
        e.message.contains("duplicate") && e.message.contains("line"),
        "{e}"
    );
    let e = parse_err("Resources:\n\tA: x\n");
    assert!(e.message.contains("line 2"), "{e}");
}

#[test]
fn structural_errors() {
    let e = parse_err("Parameters: {}\n");
    assert_eq!(e.code, "InvalidTemplate");
    assert!(e.message.contains("template has no Resources section"));
    let e = parse_err("Resources:\n  Broken:\n    Properties: {}\n");
    assert_eq!(e.code, "InvalidTemplate");
    assert_eq!(e.logical_id.as_deref(), Some("Broken"));
    assert!(e.to_string().contains("Broken"));
    assert!(parse_err("").message.contains("empty"));
    assert!(parse_err("- a\n- b\n").message.contains("mapping"));
    assert_eq!(
        parse_err("Parameters: {P: {Default: 1}}\nResources: {}\n")
            .logical_id
            .as_deref(),
        Some("P")
    );
    let e = parse_err("Parameters: {X: {Type: String}}\nResources: {X: {Type: T}}\n");
    assert_eq!(e.logical_id.as_deref(), Some("X"));
}

#[test]
fn error_display_format() {
    let e = CfnError::new("dir/t.yaml", Some("Vpc"), "UnresolvedReference", "boom");
    assert_eq!(e.to_string(), "dir/t.yaml: Vpc: UnresolvedReference: boom");
    let e = CfnError::new("t.yaml", None, "InvalidTemplate", "bad");
    assert_eq!(e.to_string(), "t.yaml: InvalidTemplate: bad");
}

#[test]
fn short_and_long_forms_parse_to_the_same_tree() {
    let pairs = [
        ("!Ref X", "{Ref: X}"),
        ("!GetAtt A.B", "{'Fn::GetAtt': [A, B]}"),
        ("!GetAtt [A, B]", "{'Fn::GetAtt': A.B}"),
        ("!Sub 'a${X}'", "{'Fn::Sub': 'a${X}'}"),
        (
            "!Sub ['${Y}', {Y: !Ref X}]",
            "{'Fn::Sub': ['${Y}', {Y: {Ref: X}}]}",
        ),
        ("!Join ['', [a]]", "{'Fn::Join': ['', [a]]}"),
        ("!Select [0, [a]]", "{'Fn::Select': [0, [a]]}"),
        ("!Split [',', a]", "{'Fn::Split': [',', a]}"),
        ("!GetAZs ''", "{'Fn::GetAZs': ''}"),
        ("!Cidr [a, 1, 2]", "{'Fn::Cidr': [a, 1, 2]}"),
        ("!If [C, a, b]", "{'Fn::If': [C, a, b]}"),
        ("!Equals [a, b]", "{'Fn::Equals': [a, b]}"),
        (
            "!And [!Condition C, !Condition C]",
            "{'Fn::And': [{Condition: C}, {Condition: C}]}",
        ),
        (
            "!Or [!Condition C, !Condition C]",
            "{'Fn::Or': [{Condition: C}, {Condition: C}]}",
        ),
        ("!Not [!Condition C]", "{'Fn::Not': [{Condition: C}]}"),
        ("!FindInMap [M, a, b]", "{'Fn::FindInMap': [M, a, b]}"),
        ("!Base64 a", "{'Fn::Base64': a}"),
        ("!ImportValue a", "{'Fn::ImportValue': a}"),
        ("!Transform {Name: x}", "{'Fn::Transform': {Name: x}}"),
        ("!Length [a]", "{'Fn::Length': [a]}"),
        ("!ToJsonString [a]", "{'Fn::ToJsonString': [a]}"),
    ];
    for (short, long) in pairs {
        let text = format!("Resources:\n  S: {{Type: T, Properties: {{V: {short}}}}}\n  L: {{Type: T, Properties: {{V: {long}}}}}\n");
        let t = parse(&text);
        let (s, l) = (value_of(&t, "S"), value_of(&t, "L"));
        assert_eq!(s, l, "{short} vs {long}");
        assert!(matches!(s, Node::Fn(_)), "{short}");
    }
    let t = parse("Resources:\n  S: {Type: T, Properties: {V: !GetAtt A.B.C}}\n");
    assert_eq!(
        value_of(&t, "S"),
        Node::Fn(Box::new(Intrinsic::GetAtt("A".into(), "B.C".into())))
    );
    let t = parse("Resources:\n  S: {Type: T, Properties: {V: !Custom [1]}}\n");
    assert!(
        matches!(value_of(&t, "S"), Node::Fn(f) if matches!(&*f, Intrinsic::Unsupported(n, _) if n == "!Custom"))
    );
}

#[test]
fn yaml_anchors_and_merge_keys() {
    let t = parse(
        r#"
Resources:
  A:
    Type: T
    Properties: &base {X: 1, Y: !Ref AWS::Region}
  B:
    Type: T
    Properties:
      <<: *base
      X: 2
"#,
    );
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    assert_eq!(
        ev.eval(&t.resources[1].properties, &Res, None).unwrap(),
        json!({"X": 2, "Y": "us-east-1"})
    );
}

#[test]
fn nesting_too_deep_is_an_error_not_a_crash() {
    let depth = 100_000;
    let yaml = format!(
        "Resources: {{A: {{Type: T, Properties: {{V: {}x{}}}}}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert_eq!(parse_err(&yaml).code, "InvalidTemplate");
    let json_text = format!(
        "{{\"Resources\": {}1{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let e = parse_template(Path::new("t.json"), &json_text).unwrap_err();
    assert_eq!(e.code, "InvalidTemplate");
    let tags = format!(
        "Resources: {{A: {{Type: T, Properties: {{V: {}x{}}}}}}}",
        "!Base64 [".repeat(depth),
        "]".repeat(depth)
    );
    assert_eq!(parse_err(&tags).code, "InvalidTemplate");
    // 120 levels is fine and evaluates.
    let ok = format!(
        "Resources:\n  A: {{Type: T, Properties: {{V: {}x{}}}}}\n",
        "[".repeat(120),
        "]".repeat(120)
    );
    let t = parse(&ok);
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    assert!(ev.eval(&t.resources[0].properties, &Res, None).is_ok());
}

// ---------------------------------------------------------------- parameters

const PARAMS: &str = r#"
Parameters:
  Env: {Type: String, AllowedValues: [prod, dev]}
  Size: {Type: Number, Default: 2}
  Zones: {Type: 'List<AWS::EC2::AvailabilityZone::Name>', Default: 'us-east-1a,us-east-1b'}
  Ports: {Type: 'List<Number>', Default: '80, 443'}
  Names: {Type: CommaDelimitedList, Default: [x, y]}
  Tier: {Type: String, Default: web, AllowedValues: [web, app]}
Resources:
  R: {Type: T}
"#;

#[test]
fn parameter_defaults_overrides_and_types() {
    let t = parse(PARAMS);
    let mut c = ctx();
    c.parameter_overrides.insert("Env".into(), "dev".into());
    c.parameter_overrides.insert("Size".into(), "7".into());
    let ev = Evaluator::new(&t, &c).unwrap();
    assert_eq!(ev.parameter("Env"), Some(&json!("dev")));
    assert_eq!(ev.parameter("Size"), Some(&json!(7)));
    assert_eq!(
        ev.parameter("Zones"),
        Some(&json!(["us-east-1a", "us-east-1b"]))
    );
    assert_eq!(ev.parameter("Ports"), Some(&json!([80, 443])));
    assert_eq!(ev.parameter("Names"), Some(&json!(["x", "y"])));
    assert_eq!(ev.parameter("Tier"), Some(&json!("web")));
}

#[test]
fn parameter_errors_are_reported_together() {
    let t = parse(PARAMS);
    let mut c = ctx();
    c.parameter_overrides.insert("Tier".into(), "db".into());
    c.parameter_overrides.insert("Typo".into(), "x".into());
    c.parameter_overrides.insert("Size".into(), "big".into());
    let errs = Evaluator::new(&t, &c).err().unwrap();
    let mut codes: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.code, e.logical_id.as_deref().unwrap_or("")))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("InvalidParameterValue", "Size"),
            ("InvalidParameterValue", "Tier"),
            ("MissingParameter", "Env"),
            ("UnknownParameter", "Typo"),
        ]
    );
    let tier = errs
        .iter()
        .find(|e| e.logical_id.as_deref() == Some("Tier"))
        .unwrap();
    assert!(tier.message.contains("AllowedValues"), "{tier}");
}

// ---------------------------------------------------------------- conditions

#[test]
fn condition_cycles_and_resource_references_are_errors() {
    let t = parse("Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\n  C: !Equals [a, a]\nResources:\n  R: {Type: T}\n");
    let c = ctx();
    let errs = Evaluator::new(&t, &c).err().unwrap();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "CircularDependency");
    assert!(errs[0].message.contains('A') && errs[0].message.contains('B'));

    let t = parse("Conditions:\n  A: !Equals [!Ref R, x]\nResources:\n  R: {Type: T}\n");
    let errs = Evaluator::new(&t, &c).err().unwrap();
    assert_eq!(errs[0].code, "UnresolvedReference");
    assert_eq!(errs[0].logical_id.as_deref(), Some("A"));

    let t = parse("Conditions:\n  A: !Ref Unknown\nResources:\n  R: {Type: T, Condition: Nope}\n");
    let errs = Evaluator::new(&t, &c).err().unwrap();
    assert_eq!(errs.len(), 2, "{errs:?}");

    let t = parse("Conditions:\n  A: plain\nResources:\n  R: {Type: T}\n");
    assert_eq!(
        Evaluator::new(&t, &c).err().unwrap()[0].code,
        "InvalidFunction"
    );
}

#[test]
fn long_condition_chains_do_not_recurse() {
    let mut text = String::from("Conditions:\n  C0: !Equals [a, a]\n");
    for i in 1..5000 {
        text.push_str(&format!("  C{i}: !Not [!Condition C{}]\n", i - 1));
    }
    text.push_str("Resources:\n  R: {Type: T, Condition: C4999}\n");
    let t = parse(&text);
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    assert!(!ev.condition("C4999").unwrap());
    assert!(!ev.resource_enabled(&t.resources[0]).unwrap());
}

// ---------------------------------------------------------------- dependency order

#[test]
fn dependency_order_follows_references() {
    let t = parse(
        r#"
Parameters:
  P: {Type: String, Default: x}
Conditions:
  Yes: !Equals [a, a]
  No: !Equals [a, b]
Resources:
  Route: {Type: T, Properties: {Gw: !Ref Igw, Rt: !GetAtt Table.Id}}
  Table: {Type: T, Properties: {Vpc: !Sub '${Vpc}/${P}/${AWS::Region}/${!Literal}'}}
  Igw: {Type: T, DependsOn: Attach}
  Attach: {Type: T, Properties: {X: !Sub ['${V}', {V: !GetAtt Vpc.CidrBlock}]}}
  Vpc: {Type: T}
  Disabled: {Type: T, Condition: No, Properties: {X: !Ref Nowhere}}
  Chooser: {Type: T, Properties: {X: !If [Yes, !Ref Vpc, !Ref Disabled], Y: !If [No, !Ref Disabled, !Sub '${Table.Arn}']}}
"#,
    );
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    let order = ids(&t, &ev.dependency_order().unwrap());
    assert_eq!(
        order,
        vec!["Vpc", "Table", "Attach", "Igw", "Route", "Chooser"]
    );
    assert!(!order.contains(&"Disabled".to_owned()));
}

#[test]
fn dependency_cycles_name_the_resources() {
    let t = parse(
        r#"
Resources:
  A: {Type: T, Properties: {X: !Ref B}}
  B: {Type: T, Properties: {X: !GetAtt C.Id}}
  C: {Type: T, DependsOn: A}
  D: {Type: T, Properties: {X: !Ref A}}
  Self: {Type: T, Properties: {X: !Sub '${Self.Arn}'}}
  Free: {Type: T}
"#,
    );
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    let errs = ev.dependency_order().unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e.code == "CircularDependency"));
    assert!(errs[0].message.contains("A, B, C"), "{}", errs[0]);
    assert!(errs[1].message.contains("Self"), "{}", errs[1]);
}

#[test]
fn unresolved_references_name_the_referencing_resource() {
    let t = parse(
        r#"
Conditions:
  No: !Equals [a, b]
Resources:
  A: {Type: T, Properties: {X: !Ref Missing, Y: !GetAtt Gone.Id, Z: !Sub '${Nada}-${Ghost.Attr}', W: !Ref 'AWS::Bogus'}}
  B: {Type: T, DependsOn: [A, NotThere]}
  C: {Type: T, Properties: {X: !Ref Off}}
  Off: {Type: T, Condition: No}
"#,
    );
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    let errs = ev.dependency_order().unwrap_err();
    assert!(
        errs.iter().all(|e| e.code == "UnresolvedReference"),
        "{errs:#?}"
    );
    assert_eq!(errs.len(), 7, "{errs:#?}");
    assert!(errs.iter().any(|e| e.logical_id.as_deref() == Some("C")
        && e.message.contains("Off")
        && e.message.contains("condition No")));
    for name in ["Missing", "Gone", "Nada", "Ghost", "AWS::Bogus", "NotThere"] {
        assert!(
            errs.iter().any(|e| e.message.contains(name)),
            "{name} not reported: {errs:#?}"
        );
    }
}

// ---------------------------------------------------------------- outputs

#[test]
fn outputs_respect_conditions() {
    let t = parse(
        r#"
Conditions:
  No: !Equals [a, b]
Resources:
  Vpc: {Type: T}
Outputs:
  VpcId: {Value: !Ref Vpc, Export: {Name: !Sub '${AWS::StackName}-VpcId'}}
  Hidden: {Value: x, Condition: No}
  Broken: {Value: !ImportValue nope}
"#,
    );
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    let outs = ev.outputs(&Res);
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0].0, "VpcId");
    assert_eq!(outs[0].1.as_ref().unwrap(), &json!("phys-vpc"));
    let e = outs[1].1.as_ref().unwrap_err();
    assert_eq!(e.code, "UnresolvedImport");
    assert_eq!(e.logical_id.as_deref(), Some("Broken"));
    assert_eq!(
        ev.export_name("VpcId", &Res).unwrap().unwrap(),
        json!("s-VpcId")
    );
    assert!(ev.export_name("Hidden", &Res).is_none());
}

#[test]
fn deepest_accepted_templates_evaluate_within_a_test_thread_stack() {
    // Each of these nests one YAML collection per function, up to the parser's limit.
    let n = 122;
    let ifs = format!("{}x{}", "!If [C, ".repeat(n), ", y]".repeat(n));
    let nots = format!("{}!Equals [a, a]{}", "!Not [".repeat(n), "]".repeat(n));
    let subs = format!(
        "{}!Sub '${{AWS::Region}}'{}",
        "!Sub ['${X}', {X: ".repeat(60),
        "}]".repeat(60)
    );
    let text = format!(
        "Conditions:\n  C: !Equals [a, a]\n  D: {nots}\nResources:\n  A: {{Type: T, Properties: {{V: {ifs}, W: {subs}}}}}\n"
    );
    let t = parse(&text);
    let c = ctx();
    let ev = Evaluator::new(&t, &c).unwrap();
    assert!(ev.condition("D").unwrap(), "122 negations of true");
    assert_eq!(
        ev.eval(&t.resources[0].properties, &Res, None).unwrap(),
        json!({"V": "x", "W": "us-east-1"})
    );
}

#[test]
fn language_extension_loops_are_reported_as_unsupported() {
    let e = parse_err("Resources:\n  Fn::ForEach::Subnets:\n    - Id\n    - [A, B]\n    - Subnet${Id}: {Type: T}\n");
    assert_eq!(e.code, "UnsupportedFunction");
    assert_eq!(e.logical_id.as_deref(), Some("Fn::ForEach::Subnets"));
}
