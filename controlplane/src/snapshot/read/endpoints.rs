//! VPC endpoints from `describe-vpc-endpoints`: gateway endpoints with the AWS-managed prefix
//! list of their service, interface endpoints with their interfaces from
//! `describe-network-interfaces`.

use super::{list, s, tag, Item, Reader, Ref};
use crate::model::*;
use crate::service_ranges::{
    gateway_service, managed_prefix_list_id, ServiceRanges, GATEWAY_SERVICES,
};
use serde_json::Value;

/// `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}`, the
/// policy AWS gives an endpoint created without one (describe-vpc-endpoints always prints it).
fn is_default_policy(doc: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(doc) else {
        return false;
    };
    let statements = list(&v, "Statement");
    statements.len() == 1 && {
        let st = &statements[0];
        s(st, "Effect") == Some("Allow")
            && s(st, "Principal") == Some("*")
            && s(st, "Action") == Some("*")
            && s(st, "Resource") == Some("*")
    }
}

impl Reader {
    pub(super) fn add_endpoint(&mut self, it: &Item, ranges: &ServiceRanges) {
        let v = &it.v;
        let state = s(v, "State").unwrap_or("available").to_ascii_lowercase();
        if !matches!(state.as_str(), "available" | "pending") {
            return;
        }
        let Some(origin) = self.origin(
            it,
            s(v, "VpcEndpointId"),
            "AWS::EC2::VPCEndpoint",
            "VpcEndpointId",
        ) else {
            return;
        };
        let id = origin.id.clone();
        let Some(vpc) = self.vpc_of(it, &id) else {
            return;
        };
        let service_name = s(v, "ServiceName").unwrap_or_default().to_string();
        let policy = s(v, "PolicyDocument")
            .filter(|d| !is_default_policy(d))
            .map(str::to_string);
        let ep = self.model.vpc_endpoints.len();
        let kind = match s(v, "VpcEndpointType").unwrap_or("Gateway") {
            "Gateway" => {
                let mut route_tables = Vec::new();
                for rt in list(v, "RouteTableIds").iter().filter_map(Value::as_str) {
                    match self.resolve(it, &id, "RouteTableIds", rt) {
                        Some(Ref::RouteTable(r)) if !route_tables.contains(&r) => {
                            route_tables.push(r)
                        }
                        Some(_) => {}
                        None => return,
                    }
                }
                let Some(prefix_list) = self.service_list(it, &id, &service_name, ranges) else {
                    return;
                };
                VpcEndpointKind::Gateway {
                    route_tables,
                    prefix_list,
                }
            }
            "Interface" => {
                let mut subnets = Vec::new();
                let mut enis = Vec::new();
                for eni_id in list(v, "NetworkInterfaceIds")
                    .iter()
                    .filter_map(Value::as_str)
                {
                    let Some(item) = self.endpoint_enis.remove(eni_id) else {
                        self.error(
                            it.file,
                            &id,
                            "UnresolvedReference",
                            format!("NetworkInterfaceIds {eni_id} is not in the snapshot (describe-network-interfaces)"),
                        );
                        return;
                    };
                    let Some(e) = self.add_eni_owned(&item, EniOwner::VpcEndpoint(ep)) else {
                        return;
                    };
                    subnets.push(self.model.enis[e].subnet);
                    enis.push(e);
                }
                if enis.is_empty() {
                    self.warn(
                        it.file,
                        &id,
                        "InvalidSnapshot.MissingField",
                        "the interface endpoint has no NetworkInterfaceIds: nothing can reach it"
                            .into(),
                    );
                }
                let private_dns_enabled =
                    v.get("PrivateDnsEnabled").and_then(Value::as_bool) == Some(true);
                if private_dns_enabled {
                    // AWS only enables private DNS on a VPC with DNS support and hostnames, which
                    // describe-vpcs does not print.
                    self.model.vpcs[vpc].enable_dns_support = true;
                    self.model.vpcs[vpc].enable_dns_hostnames = true;
                }
                let private_dns_names = service_name
                    .strip_prefix("com.amazonaws.")
                    .and_then(|rest| rest.split_once('.'))
                    .map(|(region, svc)| vec![format!("{svc}.{region}.amazonaws.com")])
                    .unwrap_or_default();
                VpcEndpointKind::Interface {
                    subnets,
                    enis,
                    private_dns_enabled,
                    private_dns_names,
                }
            }
            other => {
                let other = other.to_string();
                self.warn(
                    it.file,
                    &id,
                    "UnsupportedOperation",
                    format!("{other} endpoints are not simulated: routes to this endpoint act as blackholes"),
                );
                self.by_id.insert(id, Ref::Unsupported);
                self.model.unsupported.push(Unsupported { origin });
                return;
            }
        };
        self.model.vpc_endpoints.push(VpcEndpoint {
            origin,
            vpc,
            service_name,
            kind,
            policy,
        });
        self.by_id.insert(id, Ref::VpcEndpoint(ep));
    }

    /// The AWS-managed prefix list of a gateway endpoint's service: from describe-prefix-lists
    /// when the snapshot has it, else from the service ranges (`--service-ranges`, built-in).
    fn service_list(
        &mut self,
        it: &Item,
        id: &str,
        service_name: &str,
        ranges: &ServiceRanges,
    ) -> Option<usize> {
        if let Some(i) = self
            .model
            .prefix_lists
            .iter()
            .position(|l| l.aws_managed.as_deref() == Some(service_name))
        {
            return Some(i);
        }
        let Some((region, service, _)) = gateway_service(service_name) else {
            self.error(
                it.file,
                id,
                "InvalidServiceName",
                format!("{service_name} has no gateway endpoint (gateway endpoints: com.amazonaws.REGION.s3, com.amazonaws.REGION.dynamodb)"),
            );
            return None;
        };
        let ranges_service = GATEWAY_SERVICES
            .iter()
            .find(|(s, _)| *s == service)
            .map_or("", |&(_, r)| r);
        let entries = ranges.prefixes(region, ranges_service);
        let pl_id = managed_prefix_list_id(region, service)
            .map(str::to_string)
            .unwrap_or_else(|| format!("pl-{service}-{region}"));
        let i = self.model.prefix_lists.len();
        self.model.prefix_lists.push(PrefixList {
            origin: Origin {
                template: it.file,
                logical_id: service_name.to_string(),
                id: pl_id.clone(),
                name: None,
                kind: "AWS::EC2::PrefixList".into(),
            },
            ipv6: false,
            max_entries: 1,
            entries,
            aws_managed: Some(service_name.to_string()),
        });
        self.by_id.entry(pl_id).or_insert(Ref::PrefixList(i));
        Some(i)
    }

    /// Interfaces of endpoints that are not in the snapshot (or not simulated).
    pub(super) fn orphan_endpoint_enis(&mut self) {
        let mut left: Vec<(String, Item)> = self.endpoint_enis.drain().collect();
        left.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, it) in left {
            self.by_id.insert(id.clone(), Ref::Unsupported);
            self.model.unsupported.push(Unsupported {
                origin: Origin {
                    template: it.file,
                    logical_id: id.clone(),
                    id,
                    name: tag(&it.v, "Name").map(str::to_string),
                    kind: "AWS::EC2::VPCEndpoint".into(),
                },
            });
        }
    }
}
