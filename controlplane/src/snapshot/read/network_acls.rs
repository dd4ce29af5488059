//! Network ACLs from `describe-network-acls`: entries, then subnet associations.

use super::{int, list, s, Item, Reader, Ref};
use crate::load::parse_protocol;
use crate::model::*;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::Value;
use vpcsim_dataplane::wire::IpProtocol;

impl Reader {
    pub(super) fn add_nacl(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::NetworkAcl", "NetworkAclId") else {
            return;
        };
        let id = origin.id.clone();
        let Some(vpc) = self.vpc_of(it, &id) else {
            return;
        };
        let default = it.v.get("IsDefault").and_then(Value::as_bool) == Some(true);
        let mut entries = Vec::new();
        for e in list(&it.v, "Entries") {
            match nacl_entry(e) {
                Ok(Some(entry)) => entries.push(entry),
                Ok(None) => {}
                Err(msg) => self.error(
                    it.file,
                    &id,
                    "InvalidParameterValue",
                    format!("entry {}: {msg}", int(e, "RuleNumber").unwrap_or(-1)),
                ),
            }
        }
        self.model.network_acls.push(NetworkAcl {
            origin,
            vpc,
            default,
            entries,
        });
        let i = self.model.network_acls.len() - 1;
        if default && self.model.vpcs[vpc].default_network_acl == usize::MAX {
            self.model.vpcs[vpc].default_network_acl = i;
        }
        self.by_id.insert(id, Ref::Nacl(i));
    }

    pub(super) fn associate_nacl(&mut self, it: &Item) {
        let Some(acl_id) = s(&it.v, "NetworkAclId") else {
            return;
        };
        let Some(&Ref::Nacl(acl)) = self.by_id.get(acl_id) else {
            return;
        };
        if self.model.network_acls[acl].origin.template != it.file {
            return;
        }
        let acl_id = acl_id.to_string();
        for a in list(&it.v, "Associations") {
            if let Some(sub) = s(a, "SubnetId") {
                if let Some(Ref::Subnet(sn)) =
                    self.resolve(it, &acl_id, "Associations.SubnetId", sub)
                {
                    if self.same_vpc(it, &acl_id, sn, self.model.network_acls[acl].vpc) {
                        self.model.subnets[sn].network_acl = Some(acl);
                    }
                }
            }
        }
    }
}

fn nacl_entry(e: &Value) -> Result<Option<NaclEntry>, String> {
    let number = int(e, "RuleNumber").ok_or("no RuleNumber")?;
    if number == 32767 || number == 32768 {
        // The `*` rules every ACL ends with (32768 for IPv6); the data plane applies them.
        return Ok(None);
    }
    if !(1..=32766).contains(&number) {
        return Err(format!("RuleNumber {number} is outside 1..32766"));
    }
    let proto = s(e, "Protocol")
        .map(str::to_string)
        .or_else(|| int(e, "Protocol").map(|n| n.to_string()))
        .ok_or("no Protocol")?;
    let protocol = parse_protocol(&proto)?;
    let allow = match s(e, "RuleAction").map(str::to_ascii_lowercase).as_deref() {
        Some("allow") => true,
        Some("deny") => false,
        other => return Err(format!("RuleAction {other:?} is neither allow nor deny")),
    };
    let cidr = match (s(e, "CidrBlock"), s(e, "Ipv6CidrBlock")) {
        (Some(c), _) => IpNet::V4(
            c.parse::<Ipv4Net>()
                .map_err(|x| format!("CidrBlock {c:?}: {x}"))?
                .trunc(),
        ),
        (None, Some(c)) => IpNet::V6(
            c.parse::<Ipv6Net>()
                .map_err(|x| format!("Ipv6CidrBlock {c:?}: {x}"))?
                .trunc(),
        ),
        (None, None) => return Err("no CidrBlock".into()),
    };
    let mut ports = (0u16, 65535u16);
    if matches!(protocol, Some(IpProtocol::TCP | IpProtocol::UDP)) {
        if let Some(r) = e.get("PortRange") {
            let (f, t) = (int(r, "From").unwrap_or(0), int(r, "To").unwrap_or(65535));
            if !(0..=65535).contains(&f) || !(0..=65535).contains(&t) || f > t {
                return Err(format!("{f}-{t} is not a valid port range"));
            }
            ports = (f as u16, t as u16);
        }
    }
    let (mut icmp_type, mut icmp_code) = (None, None);
    if matches!(protocol, Some(IpProtocol::ICMP | IpProtocol::ICMPV6)) {
        if let Some(icmp) = e.get("IcmpTypeCode") {
            let f = |v: Option<i64>| v.filter(|v| (0..=255).contains(v)).map(|v| v as u8);
            icmp_type = f(int(icmp, "Type"));
            icmp_code = f(int(icmp, "Code"));
        }
    }
    Ok(Some(NaclEntry {
        origin: None,
        egress: e.get("Egress").and_then(Value::as_bool) == Some(true),
        entry: vpcsim_dataplane::tables::nacl::NaclEntry {
            number: number as u16,
            res: None,
            protocol,
            ports,
            icmp_type,
            icmp_code,
            cidr,
            allow,
        },
    }))
}
