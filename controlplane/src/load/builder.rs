//! The model builder shared by every resource type: what ids name, AWS-like diagnostics, the
//! lookups that turn a referenced id into a resource of the expected type, and the
//! cross-resource checks run once everything is loaded.

use super::*;

/// Findings of the cross-resource checks: the resource, an AWS-like code and the message.
pub(super) type Findings = Vec<(Origin, &'static str, String)>;

/// What a logical id or AWS id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ref {
    Vpc(usize),
    Subnet(usize),
    RouteTable(usize),
    Igw(usize),
    Eigw(usize),
    Nat(usize),
    Eip(usize),
    Nacl(usize),
    Sg(usize),
    Instance(usize),
    Eni(usize),
    Peering(usize),
    Tgw(usize),
    TgwAttachment(usize),
    TgwRouteTable(usize),
    Vgw(usize),
    Cgw(usize),
    Vpn(usize),
    LoadBalancer(usize),
    Listener(usize),
    TargetGroup(usize),
    PrefixList(usize),
    VpcEndpoint(usize),
    GatewayLoadBalancer(usize),
    GwlbTargetGroup(usize),
    EndpointService(usize),
    GwlbEndpoint(usize),
    LaunchTemplate(usize),
    LaunchConfiguration(usize),
    AutoScalingGroup(usize),
    AppLoadBalancer(usize),
    AlbListener(usize),
    AlbRule(usize),
    AlbTargetGroup(usize),
    NetworkFirewall(usize),
    FirewallEndpoint(usize),
    FirewallPolicy(usize),
    FirewallRuleGroup(usize),
    Link(usize),
    WafIpSet(usize),
    WafRegexSet(usize),
    WafRuleGroup(usize),
    WafWebAcl(usize),
    /// A VPC CIDR block association: the VPC and the block.
    CidrBlock(usize, usize),
    Unsupported(usize),
    /// Route 53 and Route 53 Resolver resources.
    Dns(super::dns::DnsRef),
    /// A resource that failed to build; references to it fail quietly.
    Failed,
}

/// The model being built, with what is needed to resolve references and hand out ids and
/// addresses while it grows.
#[derive(Default)]
pub(super) struct Builder {
    pub(super) model: Model,
    pub(super) diags: Vec<Diagnostic>,
    pub(super) by_logical: HashMap<(usize, String), Ref>,
    pub(super) by_id: HashMap<String, Ref>,
    /// Addresses in use per VPC, with the logical id that holds them.
    pub(super) used_ips: HashMap<(usize, IpAddr), String>,
    /// Explicit private addresses found by the pre-scan, kept away from auto-assignment.
    pub(super) reserved_explicit: HashSet<IpAddr>,
    pub(super) used_public: HashSet<Ipv4Addr>,
    pub(super) next_public: u32,
    pub(super) used_v6_blocks: HashSet<u128>,
    /// Per template: whether Ref/GetAtt to a logical id should resolve.
    pub(super) template: usize,
    /// Address ranges of the AWS services gateway endpoints reach.
    pub(super) service_ranges: crate::service_ranges::ServiceRanges,
    /// Stack name to its index in `model.templates`, for `--param VpcId=network.Vpc`.
    pub(super) stack_index: HashMap<String, usize>,
    /// `--custom-attr`: (stack, logical id, attribute) to the value given.
    pub(super) custom_attributes: HashMap<(String, String, String), String>,
    /// `--endpoint-service`: services that exist outside the loaded templates.
    pub(super) external_services: HashSet<String>,
    /// Values that resources received from resources vpcsim cannot build.
    pub(super) placeholders: Vec<Placeholder>,
    /// Parameter values of the stack being built, to name the parameter behind a bad id.
    pub(super) stack_parameters: Vec<(String, String)>,
    /// Placeholders whose missing value was already reported as an error.
    pub(super) reported_placeholders: HashSet<String>,
    /// Parameters whose bad value was already reported: (template, parameter).
    pub(super) reported_parameters: HashSet<(usize, String)>,
    /// The Region and account being loaded (where the default VPC is created).
    pub(super) home: (String, String),
    /// `--zones`: Availability Zones per Region, replacing the built-in lists.
    pub(super) zones: BTreeMap<String, Vec<String>>,
    /// The default VPC, once something needed it (index into [`Model::vpcs`]).
    pub(super) default_vpc: Option<usize>,
    /// The quotas checked ([`crate::quotas`]).
    pub(super) quotas: crate::quotas::Quotas,
}

/// Resolves Ref/GetAtt for the template being loaded, noting values that stand for
/// resources vpcsim could not build, so errors they cause are not blamed on the user.
pub(super) struct Lookup<'b> {
    pub(super) b: &'b Builder,
    pub(super) template: usize,
    /// A value came from a resource that failed to build (its error is already reported).
    pub(super) touched_failed: std::cell::Cell<bool>,
    /// Values that came from resources of types vpcsim does not model.
    pub(super) placeholders: std::cell::RefCell<Vec<Placeholder>>,
}

impl<'b> Lookup<'b> {
    pub(super) fn new(b: &'b Builder, template: usize) -> Self {
        Lookup {
            b,
            template,
            touched_failed: std::cell::Cell::new(false),
            placeholders: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn note(&self, r: Ref, logical_id: &str, attribute: Option<&str>) {
        match r {
            Ref::Failed => self.touched_failed.set(true),
            Ref::Unsupported(i) => {
                if attribute.is_some_and(|a| self.b.custom_attribute(i, a).is_some()) {
                    return;
                }
                let origin = &self.b.model.unsupported[i].origin;
                self.placeholders.borrow_mut().push(Placeholder {
                    token: match attribute {
                        Some(a) => format!("{}.{a}", origin.id),
                        None => origin.id.clone(),
                    },
                    logical_id: logical_id.to_string(),
                    kind: origin.kind.to_string(),
                    stack: self.b.model.templates[origin.template].stack_name.clone(),
                    attribute: attribute.map(str::to_string),
                });
            }
            _ => {}
        }
    }
}

impl Resolver for Lookup<'_> {
    fn resource_ref(&self, logical_id: &str) -> Option<Value> {
        let r = *self
            .b
            .by_logical
            .get(&(self.template, logical_id.to_string()))?;
        let v = self.b.ref_value(r, self.template, logical_id);
        self.note(r, logical_id, None);
        Some(v)
    }

    fn get_att(&self, logical_id: &str, attribute: &str) -> Result<Value, String> {
        let Some(r) = self
            .b
            .by_logical
            .get(&(self.template, logical_id.to_string()))
            .copied()
        else {
            return Err(format!("{logical_id} is not a resource of this template"));
        };
        let v = self.b.attribute(r, logical_id, attribute)?;
        self.note(r, logical_id, Some(attribute));
        Ok(v)
    }
}

impl Builder {
    pub(super) fn cfn_error(&mut self, e: &cfn::CfnError) {
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            file: e.file.clone(),
            logical_id: e.logical_id.clone(),
            code: e.code.into(),
            message: e.message.clone(),
        });
    }

    pub(super) fn diag(
        &mut self,
        severity: Severity,
        template: usize,
        logical_id: &str,
        code: &str,
        message: impl Into<String>,
    ) {
        let message = self.finding_message(message.into());
        self.diags.push(Diagnostic {
            severity,
            file: self.model.templates[template].path.clone(),
            logical_id: Some(logical_id.to_string()),
            code: code.into(),
            message,
        });
    }

    fn error_at(&mut self, o: &Origin, code: &str, message: impl Into<String>) {
        self.diag(
            Severity::Error,
            o.template,
            &o.logical_id.clone(),
            code,
            message,
        );
    }

    pub(super) fn warn_at(&mut self, o: &Origin, code: &str, message: impl Into<String>) {
        self.diag(
            Severity::Warning,
            o.template,
            &o.logical_id.clone(),
            code,
            message,
        );
    }

    pub(super) fn origin(
        &self,
        template: usize,
        logical_id: &str,
        kind: impl Into<Cow<'static, str>>,
        name: Option<String>,
    ) -> Origin {
        let t = &self.model.templates[template];
        let kind = kind.into();
        Origin {
            template,
            logical_id: logical_id.to_string(),
            id: aws_id(
                id_prefix(&kind),
                &t.account_id,
                &t.region,
                &t.stack_name,
                logical_id,
            ),
            name,
            kind,
        }
    }

    /// Remember a resource that could not be built, so that references to it fail quietly
    /// instead of repeating the error in every resource that uses it.
    pub(super) fn mark_failed(&mut self, template: usize, logical_id: &str) {
        self.by_logical
            .insert((template, logical_id.to_string()), Ref::Failed);
        if let Value::String(id) = self.ref_value(Ref::Failed, template, logical_id) {
            self.by_id.insert(id, Ref::Failed);
        }
    }

    /// Resolve an id (or an EIP address / allocation id) to what it names.
    pub(super) fn lookup(&self, id: &str) -> Option<Ref> {
        self.by_id.get(id).copied()
    }

    pub(super) fn find<T>(
        &self,
        key: &str,
        id: &str,
        pick: impl Fn(Ref) -> Option<T>,
        not_found: &'static str,
    ) -> R<T> {
        match self.lookup(id) {
            Some(Ref::Failed) => Err(Problem::quiet()),
            Some(r) => pick(r).ok_or_else(|| {
                Problem::new(
                    not_found,
                    format!("{key} {id} is not a resource of the expected type"),
                )
            }),
            None => Err(Problem::new(
                not_found,
                format!("{key} {id} does not exist in the loaded topology"),
            )),
        }
    }

    pub(super) fn vpc_ref(&self, p: &Value, key: &str) -> R<usize> {
        let id = req_str(p, key)?;
        self.vpc_id(key, &id)
    }

    pub(super) fn subnet_ref(&self, p: &Value, key: &str) -> R<usize> {
        let id = req_str(p, key)?;
        self.subnet_id(key, &id)
    }

    pub(super) fn register(&mut self, template: usize, logical_id: &str, id: &str, r: Ref) {
        self.by_logical
            .insert((template, logical_id.to_string()), r);
        self.by_id.insert(id.to_string(), r);
    }

    /// Keep a resource of a type vpcsim does not model, so references to it resolve and
    /// `validate` can list it.
    pub(super) fn keep_unsupported(&mut self, origin: Origin) {
        let (template, logical_id, id) = (
            origin.template,
            origin.logical_id.clone(),
            origin.id.clone(),
        );
        self.model.unsupported.push(Unsupported { origin });
        let i = self.model.unsupported.len() - 1;
        self.register(template, &logical_id, &id, Ref::Unsupported(i));
    }

    pub(super) fn link(
        &mut self,
        template: usize,
        logical_id: &str,
        kind: &'static str,
        p: &Value,
    ) -> usize {
        let origin = self.origin(template, logical_id, kind, props::name_tag(p));
        let id = origin.id.clone();
        self.model.links.push(origin);
        let l = self.model.links.len() - 1;
        self.register(template, logical_id, &id, Ref::Link(l));
        l
    }

    /// Rules that span resources, checked once everything is loaded (CloudFormation allows
    /// references in any order). Errors are reported before warnings.
    pub(super) fn validate(&mut self) {
        self.validate_network_load_balancers();
        self.validate_application_load_balancers();
        let mut errors = Findings::new();
        let mut warnings = Findings::new();
        self.validate_routes(&mut errors, &mut warnings);
        self.validate_peerings(&mut errors);
        self.validate_group_references(&mut errors);
        self.validate_edges(&mut errors, &mut warnings);
        self.validate_gateway_route_tables(&mut errors);
        self.validate_prefix_lists(&mut errors, &mut warnings);
        self.validate_endpoints(&mut errors, &mut warnings);
        self.validate_dns(&mut warnings);
        for (o, code, msg) in errors {
            self.error_at(&o, code, msg);
        }
        for (o, code, msg) in warnings {
            self.warn_at(&o, code, msg);
        }
    }
}

/// `fn subnet_id(&self, key, id) -> R<usize>` and friends: resolve an id to a resource of one
/// type, with the AWS error code for "not found".
macro_rules! id_lookups {
    ($( $name:ident => $variant:ident, $code:literal; )*) => {
        impl Builder {
            $(
                pub(super) fn $name(&self, key: &str, id: &str) -> R<usize> {
                    self.find(key, id, |r| if let Ref::$variant(i) = r { Some(i) } else { None }, $code)
                }
            )*
        }
    };
}

id_lookups! {
    subnet_id => Subnet, "InvalidSubnetID.NotFound";
    sg_id => Sg, "InvalidGroup.NotFound";
    eni_id => Eni, "InvalidNetworkInterfaceID.NotFound";
    instance_id => Instance, "InvalidInstanceID.NotFound";
    eip_id => Eip, "InvalidAllocationID.NotFound";
    route_table_id => RouteTable, "InvalidRouteTableID.NotFound";
    nacl_id => Nacl, "InvalidNetworkAclID.NotFound";
    igw_id => Igw, "InvalidInternetGatewayID.NotFound";
    vpc_id => Vpc, "InvalidVpcID.NotFound";
    tgw_id => Tgw, "InvalidTransitGatewayID.NotFound";
    tgw_rt_id => TgwRouteTable, "InvalidRouteTableID.NotFound";
    vgw_id => Vgw, "InvalidVpnGatewayID.NotFound";
    cgw_id => Cgw, "InvalidCustomerGatewayID.NotFound";
    vpn_id => Vpn, "InvalidVpnConnectionID.NotFound";
}

pub(super) fn prefix(mut p: Problem, at: &str) -> Problem {
    p.message = format!("{at}: {}", p.message);
    p
}
