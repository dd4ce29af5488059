//! Managed prefix lists (SPEC §2.2, §2.4, §4.3): customer-managed `AWS::EC2::PrefixList`, the
//! AWS-managed lists of the gateway-endpoint services, routes with `DestinationPrefixListId`,
//! and the security-group rule quota a reference counts against.

use super::*;
use crate::service_ranges::{
    gateway_service, managed_prefix_list_by_id, managed_prefix_list_id, ServiceRanges,
    GATEWAY_SERVICES,
};

/// Weight of the AWS-managed S3 and DynamoDB lists: what one reference counts against the
/// security-group rule quota (AWS "AWS-managed prefix list weight" table: 1 for both).
const MANAGED_WEIGHT: u32 = 1;

/// `MaxEntries` accepted for a customer-managed list (AWS quota: 1,000 entries).
const MAX_ENTRIES_LIMIT: i64 = 1000;

impl Builder {
    /// `--service-ranges FILE` replaces the built-in table; a bad file is a load error.
    pub(super) fn load_service_ranges(&mut self, opts: &LoadOptions) {
        let Some(path) = &opts.service_ranges else {
            return;
        };
        let result = std::fs::read_to_string(path)
            .map_err(|e| format!("InvalidServiceRanges: cannot read the file: {e}"))
            .and_then(|text| ServiceRanges::from_json(&text).map_err(|e| e.to_string()));
        match result {
            Ok(r) => self.service_ranges = r,
            Err(message) => self.diags.push(Diagnostic {
                severity: Severity::Error,
                file: path.clone(),
                logical_id: None,
                code: "InvalidServiceRanges".into(),
                message: message
                    .trim_start_matches("InvalidServiceRanges: ")
                    .to_string(),
            }),
        }
    }

    pub(super) fn add_prefix_list(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let family = req_str(p, "AddressFamily")?;
        let ipv6 = match family.as_str() {
            "IPv4" => false,
            "IPv6" => true,
            other => {
                return Err(invalid(
                    "AddressFamily",
                    format!("{other:?} is neither IPv4 nor IPv6"),
                ))
            }
        };
        req_str(p, "PrefixListName")?;
        let max_entries = opt_int(p, "MaxEntries")?.ok_or_else(|| missing("MaxEntries"))?;
        if !(1..=MAX_ENTRIES_LIMIT).contains(&max_entries) {
            return Err(invalid(
                "MaxEntries",
                format!("{max_entries} is not between 1 and {MAX_ENTRIES_LIMIT}"),
            ));
        }
        let mut entries: Vec<IpNet> = Vec::new();
        for (i, e) in opt_list(p, "Entries")?.iter().enumerate() {
            let key = format!("Entries[{i}].Cidr");
            let c = req_str(e, "Cidr").map_err(|_| missing(&key))?;
            let net = c
                .parse::<IpNet>()
                .map_err(|err| invalid(&key, format!("{c:?} is not a CIDR ({err})")))?
                .trunc();
            if matches!(net, IpNet::V6(_)) != ipv6 {
                return Err(invalid(
                    &key,
                    format!("{c} is not an {family} CIDR (the list's AddressFamily)"),
                ));
            }
            if !entries.contains(&net) {
                entries.push(net);
            }
        }
        if entries.len() as i64 > max_entries {
            return Err(Problem::new(
                "PrefixListMaxEntriesExceeded",
                format!("{} entries but MaxEntries is {max_entries}", entries.len()),
            ));
        }
        let origin = self.origin(t, lid, "AWS::EC2::PrefixList", props::name_tag(p));
        let id = origin.id.clone();
        self.model.prefix_lists.push(PrefixList {
            origin,
            ipv6,
            max_entries: max_entries as u32,
            entries,
            aws_managed: None,
        });
        let i = self.model.prefix_lists.len() - 1;
        self.register(t, lid, &id, Ref::PrefixList(i));
        Ok(())
    }

    /// Resolve a `pl-` id: a list of the topology, or a known AWS-managed list (created on first
    /// use, as AWS-managed lists exist in every account).
    pub(super) fn prefix_list_ref(&mut self, key: &str, id: &str, t: usize) -> R<usize> {
        match self.lookup(id) {
            Some(Ref::PrefixList(i)) => Ok(i),
            Some(Ref::Failed) => Err(Problem::quiet()),
            Some(_) => Err(Problem::new(
                "InvalidPrefixListID.NotFound",
                format!("{key} {id} is not a prefix list"),
            )),
            None => match managed_prefix_list_by_id(id) {
                Some((region, service)) => Ok(self.managed_prefix_list(t, region, service)),
                None => Err(Problem::new(
                    "InvalidPrefixListID.NotFound",
                    format!("{key} {id} names no prefix list of the topology and no AWS-managed list vpcsim knows"),
                )),
            },
        }
    }

    /// The AWS-managed prefix list `com.amazonaws.REGION.SERVICE` (S3, DynamoDB), created once,
    /// with its entries from the service-ranges table.
    fn managed_prefix_list(&mut self, t: usize, region: &str, service: &str) -> usize {
        let name = format!("com.amazonaws.{region}.{service}");
        if let Some(i) = self
            .model
            .prefix_lists
            .iter()
            .position(|l| l.aws_managed.as_deref() == Some(name.as_str()))
        {
            return i;
        }
        let ranges_service = GATEWAY_SERVICES
            .iter()
            .find(|(s, _)| *s == service)
            .map_or("", |&(_, r)| r);
        let entries = self.service_ranges.prefixes(region, ranges_service);
        let account = self.model.templates[t].account_id.clone();
        let id = managed_prefix_list_id(region, service)
            .map(str::to_string)
            .unwrap_or_else(|| aws_id("pl", &account, region, "aws-managed", &name));
        let origin = Origin {
            template: t,
            logical_id: name.clone(),
            id: id.clone(),
            name: None,
            kind: "AWS::EC2::PrefixList".into(),
        };
        self.model.prefix_lists.push(PrefixList {
            origin,
            ipv6: false,
            max_entries: MANAGED_WEIGHT,
            entries,
            aws_managed: Some(name),
        });
        let i = self.model.prefix_lists.len() - 1;
        self.by_id.insert(id, Ref::PrefixList(i));
        i
    }

    /// The managed list of a gateway-endpoint service name, if it is one.
    pub(super) fn service_prefix_list(&mut self, t: usize, service_name: &str) -> Option<usize> {
        let (region, service, _) = gateway_service(service_name)?;
        let (region, service) = (region.to_string(), service);
        Some(self.managed_prefix_list(t, &region, service))
    }

    /// An `AWS::EC2::Route` with `DestinationPrefixListId`.
    pub(super) fn add_prefix_list_route(
        &mut self,
        origin: Origin,
        route_table: usize,
        prefix_list: usize,
        target: RouteTarget,
    ) -> R<()> {
        if let Some(dup) = self
            .model
            .prefix_list_routes
            .iter()
            .find(|r| r.route_table == route_table && r.prefix_list == prefix_list)
        {
            return Err(Problem::new(
                "RouteAlreadyExists",
                format!(
                    "route table {} already has a route for {} ({})",
                    self.model.route_tables[route_table].origin.logical_id,
                    self.model.prefix_lists[prefix_list].origin.id,
                    dup.origin.logical_id
                ),
            ));
        }
        self.model.prefix_list_routes.push(PrefixListRoute {
            origin,
            route_table,
            prefix_list,
            target,
        });
        Ok(())
    }

    pub(super) fn prefix_list_attribute(
        &self,
        i: usize,
        logical_id: &str,
        attr: &str,
    ) -> Result<Value, String> {
        let m = &self.model;
        let o = &m.prefix_lists[i].origin;
        Ok(match attr {
            "PrefixListId" => json!(o.id),
            "Arn" => json!(arn(m, o, "prefix-list")),
            "OwnerId" => json!(m.templates[o.template].account_id),
            "Version" => json!(1),
            _ => return Err(format!("{logical_id} has no attribute {attr}")),
        })
    }

    /// Security-group rule quotas: per group, direction and address family, a CIDR or group
    /// reference counts 1 and a prefix list its `MaxEntries` (AWS-managed: its weight).
    pub(super) fn validate_prefix_lists(&self, errors: &mut Findings, warnings: &mut Findings) {
        let m = &self.model;
        for g in &m.security_groups {
            for (dir, rules) in [("inbound", &g.ingress), ("outbound", &g.egress)] {
                let (mut v4, mut v6) = (0u32, 0u32);
                for r in rules {
                    match &r.peer {
                        SgPeer::Cidr(IpNet::V4(_)) => v4 += 1,
                        SgPeer::Cidr(IpNet::V6(_)) => v6 += 1,
                        // (model) AWS does not say which family a group reference counts in;
                        // vpcsim counts it as IPv4, where the console lists it.
                        SgPeer::Group(_) => v4 += 1,
                        SgPeer::PrefixList(l) => {
                            let l = &m.prefix_lists[*l];
                            if l.ipv6 {
                                v6 += l.max_entries;
                            } else {
                                v4 += l.max_entries;
                            }
                        }
                    }
                }
                const QUOTA: &str = "rules-per-sg";
                for (family, n) in [("IPv4", v4), ("IPv6", v6)] {
                    if n > self.quotas.limit(QUOTA) {
                        let what = format!(
                            "{family} {dir} rules (a prefix list counts as its MaxEntries)"
                        );
                        let found = (
                            g.origin.clone(),
                            "RulesPerSecurityGroupLimitExceeded",
                            self.quotas.exceeded(QUOTA, n as usize, &what),
                        );
                        match self.quotas.severity(QUOTA) {
                            Severity::Error => errors.push(found),
                            Severity::Warning => warnings.push(found),
                        }
                    }
                }
            }
        }
        for r in &m.prefix_list_routes {
            let l = &m.prefix_lists[r.prefix_list];
            if l.entries.is_empty() {
                warnings.push((
                    r.origin.clone(),
                    "InvalidPrefixListID.Empty",
                    format!(
                        "prefix list {} has no entries: the route matches nothing",
                        l.origin.logical_id
                    ),
                ));
            }
            let rt = &m.route_tables[r.route_table];
            let wrong_vpc = match r.target {
                RouteTarget::InternetGateway(g) => m.internet_gateways[g].vpc != Some(rt.vpc),
                RouteTarget::NatGateway(n) => m.subnets[m.nat_gateways[n].subnet].vpc != rt.vpc,
                RouteTarget::NetworkInterface(e) => m.subnets[m.enis[e].subnet].vpc != rt.vpc,
                RouteTarget::EgressOnlyInternetGateway(g) => m.egress_only_igws[g].vpc != rt.vpc,
                _ => false,
            };
            if wrong_vpc {
                errors.push((
                    r.origin.clone(),
                    "InvalidParameterValue",
                    format!(
                        "the route's target is not in {} (the route table's VPC)",
                        m.vpcs[rt.vpc].origin.logical_id
                    ),
                ));
            }
        }
    }
}
