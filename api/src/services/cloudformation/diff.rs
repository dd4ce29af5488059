//! What an update does to a stack: the old and the new template's resources compared by
//! logical id, as a change set lists them. A resource is added, removed, or modified; a
//! modification replaces the resource (a new physical id) only when a property whose update
//! "requires replacement" in AWS's resource reference changes, or, dynamically, when such a
//! property refers to a resource that is itself replaced.

use std::collections::{BTreeMap, BTreeSet};

use vpcsim_controlplane::cfn::{Intrinsic, Node, Resource, Template};

/// `Add`, `Modify` or `Remove`, as `ResourceChange.Action` spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The new template declares the resource and the old one did not.
    Add,
    /// Both declare it and something it is built from differs.
    Modify,
    /// Only the old template declares it.
    Remove,
}

impl Action {
    /// AWS's name of the action.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
        }
    }
}

/// One changed property of a modified resource (`ResourceChangeDetail`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    /// `Properties` or `Tags`.
    pub attribute: &'static str,
    /// The top-level property.
    pub name: String,
    /// `Always` or `Never`.
    pub requires_recreation: &'static str,
    /// `Static` (known now) or `Dynamic` (known once a referenced resource is replaced).
    pub evaluation: &'static str,
    /// `DirectModification`, `ParameterReference` or `ResourceReference`.
    pub change_source: &'static str,
    /// The parameter or resource that caused the change, for references.
    pub causing_entity: Option<String>,
}

/// One resource the update touches (`ResourceChange`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceChange {
    /// What happens to it.
    pub action: Action,
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// For `Modify`: `True`, `False` or `Conditional`.
    pub replacement: Option<&'static str>,
    /// For `Modify`: what changed.
    pub details: Vec<Detail>,
}

impl ResourceChange {
    /// Whether the update gives the resource a new physical id.
    pub fn replaces(&self) -> bool {
        matches!(self.replacement, Some("True" | "Conditional"))
    }

    /// `Scope`: the attributes the details touch.
    pub fn scope(&self) -> Vec<&'static str> {
        let mut scope: Vec<&'static str> = self.details.iter().map(|d| d.attribute).collect();
        scope.sort_unstable();
        scope.dedup();
        scope
    }
}

/// One side of the comparison: a template and the values of its parameters.
pub struct Side<'a> {
    /// The template.
    pub template: &'a Template,
    /// Every parameter's value (given, previous or default).
    pub parameters: &'a BTreeMap<String, String>,
}

/// The properties whose change makes CloudFormation replace a resource (the "Update requires:
/// Replacement" entries of the resource reference) for the types vpcsim builds; every other
/// property of these types, and every property of other types, updates in place.
fn replacement_properties(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "AWS::EC2::VPC" => &["CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength"],
        "AWS::EC2::Subnet" => &[
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "VpcId",
            "Ipv4IpamPoolId",
            "Ipv4NetmaskLength",
            "Ipv6Native",
            "OutpostArn",
        ],
        "AWS::EC2::SecurityGroup" => &["GroupDescription", "GroupName", "VpcId"],
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => &[
            "GroupId",
            "GroupName",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "SourceSecurityGroupId",
            "SourceSecurityGroupName",
            "SourceSecurityGroupOwnerId",
            "SourcePrefixListId",
            "DestinationSecurityGroupId",
            "DestinationPrefixListId",
        ],
        "AWS::EC2::RouteTable" | "AWS::EC2::NetworkAcl" => &["VpcId"],
        "AWS::EC2::Route" => &[
            "RouteTableId",
            "DestinationCidrBlock",
            "DestinationIpv6CidrBlock",
            "DestinationPrefixListId",
        ],
        "AWS::EC2::NetworkAclEntry" => &["NetworkAclId", "RuleNumber", "Egress"],
        "AWS::EC2::SubnetRouteTableAssociation" => &["SubnetId", "RouteTableId"],
        "AWS::EC2::SubnetNetworkAclAssociation" => &["SubnetId", "NetworkAclId"],
        "AWS::EC2::VPCGatewayAttachment" => &["VpcId"],
        "AWS::EC2::NatGateway" => &[
            "AllocationId",
            "ConnectivityType",
            "PrivateIpAddress",
            "SubnetId",
        ],
        "AWS::EC2::EIP" => &["Domain", "NetworkBorderGroup", "PublicIpv4Pool"],
        "AWS::EC2::Instance" => &[
            "AvailabilityZone",
            "ImageId",
            "KeyName",
            "NetworkInterfaces",
            "PrivateIpAddress",
            "SubnetId",
            "SecurityGroups",
            "Ipv6Addresses",
            "LaunchTemplate",
            "Tenancy",
        ],
        "AWS::EC2::NetworkInterface" => &["SubnetId", "PrivateIpAddress", "InterfaceType"],
        "AWS::EC2::VPCPeeringConnection" => &[
            "VpcId",
            "PeerVpcId",
            "PeerOwnerId",
            "PeerRegion",
            "PeerRoleArn",
        ],
        "AWS::EC2::VPCEndpoint" => &["ServiceName", "VpcId", "VpcEndpointType"],
        "AWS::EC2::TransitGateway" => &["AmazonSideAsn"],
        "AWS::EC2::TransitGatewayAttachment" | "AWS::EC2::TransitGatewayVpcAttachment" => {
            &["TransitGatewayId", "VpcId"]
        }
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => &["Name", "Scheme"],
        "AWS::ElasticLoadBalancingV2::TargetGroup" => &[
            "Name",
            "Port",
            "Protocol",
            "ProtocolVersion",
            "TargetType",
            "VpcId",
        ],
        "AWS::ElasticLoadBalancingV2::Listener" => &["LoadBalancerArn"],
        _ => &[],
    }
}

/// The parameters and resources a property value refers to: `Ref`, `Fn::GetAtt` and the
/// `${Name}`/`${Name.Attribute}` of `Fn::Sub` (less the names its own map defines).
fn references(node: &Node) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for n in node.descendants() {
        match n.as_intrinsic() {
            Some(Intrinsic::Ref(name)) => {
                out.insert(name.clone());
            }
            Some(Intrinsic::GetAtt(logical, _)) => {
                out.insert(logical.clone());
            }
            Some(Intrinsic::Sub(text, vars)) => {
                for name in sub_variables(text) {
                    if !vars.iter().any(|(v, _)| *v == name) {
                        out.insert(name);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The names `${...}` of a `Fn::Sub` string uses (`${!Literal}` is not one; `${A.B}` names `A`).
fn sub_variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        if !inner.starts_with('!') {
            let name = inner.split('.').next().unwrap_or(inner).trim();
            out.push(name.to_string());
        }
        rest = &after[end + 1..];
    }
    out
}

fn properties(r: &Resource) -> Vec<(String, Node)> {
    match &r.properties {
        Node::Map(entries) => entries.clone(),
        _ => Vec::new(),
    }
}

fn property<'n>(props: &'n [(String, Node)], name: &str) -> Option<&'n Node> {
    props.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The changes that turn `old` into `new`, in the new template's order (removals last), or
/// CloudFormation's refusal when a resource would change its type.
pub fn diff(old: &Side<'_>, new: &Side<'_>) -> Result<Vec<ResourceChange>, String> {
    let old_by_id: BTreeMap<&str, &Resource> = old
        .template
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r))
        .collect();
    let retyped: Vec<&str> = new
        .template
        .resources
        .iter()
        .filter(|r| {
            old_by_id
                .get(r.logical_id.as_str())
                .is_some_and(|o| o.type_ != r.type_)
        })
        .map(|r| r.logical_id.as_str())
        .collect();
    if !retyped.is_empty() {
        return Err(format!(
            "Update of resource type is not permitted. The new template modifies resource type of the following resources: [{}]",
            retyped.join(", ")
        ));
    }
    let changed_parameters: BTreeSet<&String> = new
        .parameters
        .iter()
        .filter(|(k, v)| old.parameters.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .chain(
            old.parameters
                .keys()
                .filter(|k| !new.parameters.contains_key(*k)),
        )
        .collect();
    let mut changes: Vec<ResourceChange> = Vec::new();
    for r in &new.template.resources {
        let Some(before) = old_by_id.get(r.logical_id.as_str()) else {
            changes.push(ResourceChange {
                action: Action::Add,
                logical_id: r.logical_id.clone(),
                resource_type: r.type_.clone(),
                replacement: None,
                details: Vec::new(),
            });
            continue;
        };
        let details = static_details(before, r, &changed_parameters);
        changes.push(ResourceChange {
            action: Action::Modify,
            logical_id: r.logical_id.clone(),
            resource_type: r.type_.clone(),
            replacement: None,
            details,
        });
    }
    propagate_replacements(new.template, &mut changes);
    changes.retain(|c| c.action != Action::Modify || !c.details.is_empty());
    let declared: BTreeSet<&str> = new
        .template
        .resources
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect();
    for r in &old.template.resources {
        if !declared.contains(r.logical_id.as_str()) {
            changes.push(ResourceChange {
                action: Action::Remove,
                logical_id: r.logical_id.clone(),
                resource_type: r.type_.clone(),
                replacement: None,
                details: Vec::new(),
            });
        }
    }
    Ok(changes)
}

/// The properties that differ as written, or that use a parameter whose value changed.
fn static_details(
    before: &Resource,
    after: &Resource,
    changed_parameters: &BTreeSet<&String>,
) -> Vec<Detail> {
    let (old_props, new_props) = (properties(before), properties(after));
    let mut names: Vec<String> = new_props.iter().map(|(k, _)| k.clone()).collect();
    names.extend(
        old_props
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| property(&new_props, k).is_none()),
    );
    let replacing = replacement_properties(&after.type_);
    let mut details = Vec::new();
    for name in names {
        let (o, n) = (property(&old_props, &name), property(&new_props, &name));
        let (source, cause) = if o != n {
            ("DirectModification", None)
        } else if let Some(p) = n
            .map(references)
            .unwrap_or_default()
            .into_iter()
            .find(|r| changed_parameters.contains(r))
        {
            ("ParameterReference", Some(p))
        } else {
            continue;
        };
        details.push(Detail {
            attribute: if name == "Tags" { "Tags" } else { "Properties" },
            requires_recreation: if replacing.contains(&name.as_str()) {
                "Always"
            } else {
                "Never"
            },
            evaluation: "Static",
            change_source: source,
            causing_entity: cause,
            name,
        });
    }
    details
}

/// Replacement spreads: a property referring to a replaced resource changes too (its new
/// physical id or attributes), and replaces its own resource when it is a replacement property.
fn propagate_replacements(template: &Template, changes: &mut [ResourceChange]) {
    for c in changes.iter_mut().filter(|c| c.action == Action::Modify) {
        c.replacement = replacement_of(&c.details);
    }
    loop {
        let replaced: BTreeSet<String> = changes
            .iter()
            .filter(|c| c.replaces())
            .map(|c| c.logical_id.clone())
            .collect();
        let mut grew = false;
        for c in changes.iter_mut().filter(|c| c.action == Action::Modify) {
            let Some(r) = template
                .resources
                .iter()
                .find(|r| r.logical_id == c.logical_id)
            else {
                continue;
            };
            let replacing = replacement_properties(&r.type_);
            for (name, value) in properties(r) {
                let Some(cause) = references(&value)
                    .into_iter()
                    .find(|x| replaced.contains(x))
                else {
                    continue;
                };
                if c.details.iter().any(|d| d.name == name) {
                    continue;
                }
                c.details.push(Detail {
                    attribute: if name == "Tags" { "Tags" } else { "Properties" },
                    requires_recreation: if replacing.contains(&name.as_str()) {
                        "Always"
                    } else {
                        "Never"
                    },
                    evaluation: "Dynamic",
                    change_source: "ResourceReference",
                    causing_entity: Some(cause),
                    name,
                });
                grew = true;
            }
            c.replacement = replacement_of(&c.details);
        }
        if !grew {
            break;
        }
    }
}

fn replacement_of(details: &[Detail]) -> Option<&'static str> {
    if details.is_empty() {
        return None;
    }
    let always = |evaluation: &str| {
        details
            .iter()
            .any(|d| d.requires_recreation == "Always" && d.evaluation == evaluation)
    };
    Some(if always("Static") {
        "True"
    } else if always("Dynamic") {
        "Conditional"
    } else {
        "False"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpcsim_controlplane::cfn::parse_template;

    fn template(text: &str) -> Template {
        parse_template(std::path::Path::new("t.yaml"), text).unwrap()
    }

    const OLD: &str = "
Parameters:
  Cidr: {Type: String, Default: 10.0.0.0/16}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: !Ref Cidr}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      VpcId: !Ref Vpc
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8}]
  Web:
    Type: AWS::EC2::Instance
    Properties: {ImageId: ami-1, SubnetId: !Ref Subnet, SecurityGroupIds: [!Ref Sg]}
  Gone:
    Type: AWS::EC2::InternetGateway
";

    fn run(
        old: &str,
        new: &str,
        old_p: &[(&str, &str)],
        new_p: &[(&str, &str)],
    ) -> Vec<ResourceChange> {
        let (o, n) = (template(old), template(new));
        let op: BTreeMap<String, String> = old_p
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let np: BTreeMap<String, String> = new_p
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        diff(
            &Side {
                template: &o,
                parameters: &op,
            },
            &Side {
                template: &n,
                parameters: &np,
            },
        )
        .unwrap()
    }

    #[test]
    fn same_template_and_parameters_change_nothing() {
        let p = [("Cidr", "10.0.0.0/16")];
        assert!(run(OLD, OLD, &p, &p).is_empty());
    }

    #[test]
    fn adds_modifies_in_place_replaces_and_removes() {
        let new = OLD
            .replace("CidrBlock: 10.0.1.0/24", "CidrBlock: 10.0.2.0/24")
            .replace("FromPort: 22, ToPort: 22", "FromPort: 443, ToPort: 443")
            .replace(
                "  Gone:\n    Type: AWS::EC2::InternetGateway\n",
                "  Extra:\n    Type: AWS::EC2::RouteTable\n    Properties: {VpcId: !Ref Vpc}\n",
            );
        let p = [("Cidr", "10.0.0.0/16")];
        let changes = run(OLD, &new, &p, &p);
        let find = |l: &str| changes.iter().find(|c| c.logical_id == l).unwrap();
        assert_eq!(find("Extra").action, Action::Add);
        assert_eq!(find("Gone").action, Action::Remove);
        let subnet = find("Subnet");
        assert_eq!(
            (subnet.action, subnet.replacement),
            (Action::Modify, Some("True"))
        );
        assert_eq!(subnet.details[0].name, "CidrBlock");
        let sg = find("Sg");
        assert_eq!(sg.replacement, Some("False"));
        assert_eq!(sg.details[0].requires_recreation, "Never");
        // The instance's subnet is replaced: its SubnetId changes once that happens.
        let web = find("Web");
        assert_eq!(web.replacement, Some("Conditional"));
        assert_eq!(web.details[0].evaluation, "Dynamic");
        assert_eq!(web.details[0].causing_entity.as_deref(), Some("Subnet"));
        assert!(changes.iter().all(|c| c.logical_id != "Vpc"));
    }

    #[test]
    fn a_changed_parameter_modifies_what_uses_it() {
        let changes = run(
            OLD,
            OLD,
            &[("Cidr", "10.0.0.0/16")],
            &[("Cidr", "10.1.0.0/16")],
        );
        let vpc = changes.iter().find(|c| c.logical_id == "Vpc").unwrap();
        assert_eq!(vpc.replacement, Some("True"));
        assert_eq!(vpc.details[0].change_source, "ParameterReference");
        assert_eq!(vpc.details[0].causing_entity.as_deref(), Some("Cidr"));
        assert_eq!(vpc.scope(), vec!["Properties"]);
        // Everything in the VPC follows it.
        assert!(changes
            .iter()
            .any(|c| c.logical_id == "Subnet" && c.replaces()));
    }

    #[test]
    fn a_new_type_for_a_logical_id_is_refused() {
        let new = OLD.replace(
            "Type: AWS::EC2::InternetGateway",
            "Type: AWS::EC2::RouteTable",
        );
        let (o, n) = (template(OLD), template(&new));
        let p = BTreeMap::new();
        let err = diff(
            &Side {
                template: &o,
                parameters: &p,
            },
            &Side {
                template: &n,
                parameters: &p,
            },
        )
        .unwrap_err();
        assert!(
            err.contains("Update of resource type is not permitted"),
            "{err}"
        );
    }

    #[test]
    fn sub_variables_skip_literals() {
        assert_eq!(sub_variables("${A}-${B.Arn}-${!C}"), vec!["A", "B"]);
    }
}
