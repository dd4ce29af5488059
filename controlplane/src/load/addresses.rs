//! Private and public addresses. Explicitly requested private addresses are reserved before
//! anything is auto-assigned, auto-assigned ones are the lowest free in the subnet (after the
//! four AWS reserves), and auto-assigned public IPv4 addresses come from 198.18.0.0/15 in load
//! order, so the same templates always give the same addresses.

use super::*;

/// First address auto-assigned public IPs come from (SPEC: never documentation ranges).
const PUBLIC_POOL: Ipv4Net = match Ipv4Net::new(Ipv4Addr::new(198, 18, 0, 0), 15) {
    Ok(n) => n,
    Err(_) => panic!("constant prefix"),
};

impl Builder {
    /// Find explicitly requested private addresses before anything is auto-assigned, so an
    /// instance without an address never takes one that a later resource asks for.
    pub(super) fn prescan_addresses(&mut self, t: &cfn::Template, ev: &Evaluator<'_>) {
        struct NoRefs;
        impl Resolver for NoRefs {
            fn resource_ref(&self, _: &str) -> Option<Value> {
                None
            }
            fn get_att(&self, _: &str, _: &str) -> Result<Value, String> {
                Err(String::new())
            }
        }
        for r in &t.resources {
            if !matches!(
                r.type_.as_str(),
                "AWS::EC2::Instance" | "AWS::EC2::NetworkInterface" | "AWS::EC2::NatGateway"
            ) {
                continue;
            }
            let cfn::Node::Map(entries) = &r.properties else {
                continue;
            };
            for (k, v) in entries {
                let wanted = matches!(
                    k.as_str(),
                    "PrivateIpAddress" | "PrivateIpAddresses" | "NetworkInterfaces"
                );
                if !wanted {
                    continue;
                }
                if let Ok(v) = ev.eval(v, &NoRefs, None) {
                    collect_ips(&v, &mut self.reserved_explicit);
                }
            }
        }
    }

    pub(super) fn next_public_ip(&mut self) -> Ipv4Addr {
        loop {
            let a = Ipv4Addr::from_bits(PUBLIC_POOL.network().to_bits() + 1 + self.next_public);
            self.next_public = (self.next_public + 1) % ((1 << 17) - 2);
            if self.used_public.insert(a) {
                return a;
            }
        }
    }

    /// Claim an address in a subnet: explicit ones are checked, missing ones are the lowest free.
    pub(super) fn claim_v4(
        &mut self,
        subnet: usize,
        wanted: Option<Ipv4Addr>,
        holder: &str,
    ) -> R<Ipv4Addr> {
        let s = &self.model.subnets[subnet];
        let Some(cidr) = s.cidr_v4 else {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!("subnet {} has no IPv4 CIDR", s.origin.logical_id),
            ));
        };
        let vpc = s.vpc;
        let base = cidr.network().to_bits();
        let last = cidr.broadcast().to_bits();
        match wanted {
            Some(a) => {
                if !cidr.contains(&a) {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!(
                            "address {a} is not in subnet {} ({cidr})",
                            s.origin.logical_id
                        ),
                    ));
                }
                let off = a.to_bits() - base;
                if off < 4 || a.to_bits() == last {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!("address {a} is reserved by AWS in {cidr} (network, router, DNS, future use, broadcast)"),
                    ));
                }
                if let Some(other) = self.used_ips.get(&(vpc, IpAddr::V4(a))) {
                    return Err(Problem::new(
                        "InvalidIPAddress.InUse",
                        format!("address {a} is already used by {other}"),
                    ));
                }
                self.used_ips
                    .insert((vpc, IpAddr::V4(a)), holder.to_string());
                Ok(a)
            }
            None => {
                for bits in base + 4..last {
                    let a = Ipv4Addr::from_bits(bits);
                    let ip = IpAddr::V4(a);
                    if !self.used_ips.contains_key(&(vpc, ip))
                        && !self.reserved_explicit.contains(&ip)
                    {
                        self.used_ips.insert((vpc, ip), holder.to_string());
                        return Ok(a);
                    }
                }
                Err(Problem::new(
                    "InsufficientFreeAddressesInSubnet",
                    format!(
                        "subnet {} ({cidr}) has no free address left",
                        s.origin.logical_id
                    ),
                ))
            }
        }
    }

    pub(super) fn claim_v6(
        &mut self,
        subnet: usize,
        wanted: Option<Ipv6Addr>,
        holder: &str,
    ) -> R<Ipv6Addr> {
        let s = &self.model.subnets[subnet];
        let Some(cidr) = s.cidr_v6 else {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!("subnet {} has no IPv6 CIDR", s.origin.logical_id),
            ));
        };
        let vpc = s.vpc;
        let base = cidr.network().to_bits();
        let a = match wanted {
            Some(a) => {
                if !cidr.contains(&a) {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!("address {a} is not in {cidr}"),
                    ));
                }
                let off = a.to_bits() - base;
                if off < 4 || a == cidr.broadcast() {
                    return Err(Problem::new(
                        "InvalidParameterValue",
                        format!("address {a} is reserved by AWS in {cidr}"),
                    ));
                }
                if let Some(other) = self.used_ips.get(&(vpc, IpAddr::V6(a))) {
                    return Err(Problem::new(
                        "InvalidIPAddress.InUse",
                        format!("address {a} is already used by {other}"),
                    ));
                }
                a
            }
            None => (4u128..1 << 20)
                .map(|off| Ipv6Addr::from_bits(base + off))
                .find(|a| {
                    !self.used_ips.contains_key(&(vpc, IpAddr::V6(*a)))
                        && !self.reserved_explicit.contains(&IpAddr::V6(*a))
                })
                .ok_or_else(|| {
                    Problem::new("InsufficientFreeAddressesInSubnet", "no free IPv6 address")
                })?,
        };
        self.used_ips
            .insert((vpc, IpAddr::V6(a)), holder.to_string());
        Ok(a)
    }
}

/// Gather every IP-looking string in a property tree.
fn collect_ips(v: &Value, out: &mut HashSet<IpAddr>) {
    match v {
        Value::String(s) => {
            if let Ok(a) = s.parse::<IpAddr>() {
                out.insert(a);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_ips(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_ips(x, out)),
        _ => {}
    }
}
