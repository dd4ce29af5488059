//! Managed prefix lists, VPC endpoints and endpoint services, load balancers, their target
//! groups and listeners.

use super::refs::Failed;
use super::*;

/// The Terraform types of this module.
pub(super) const TYPES: &[&str] = &[
    "aws_ec2_managed_prefix_list",
    "aws_vpc_endpoint",
    "aws_vpc_endpoint_service",
    "aws_lb",
    "aws_lb_target_group",
    "aws_lb_listener",
];

/// `health_check` block keys and the target group's CloudFormation properties.
const HEALTH_CHECK: &[(&str, &str)] = &[
    ("enabled", "HealthCheckEnabled"),
    ("interval", "HealthCheckIntervalSeconds"),
    ("path", "HealthCheckPath"),
    ("port", "HealthCheckPort"),
    ("protocol", "HealthCheckProtocol"),
    ("timeout", "HealthCheckTimeoutSeconds"),
    ("healthy_threshold", "HealthyThresholdCount"),
    ("unhealthy_threshold", "UnhealthyThresholdCount"),
];

impl Tx {
    pub(super) fn services(&mut self, r: &Res) -> Result<(), Failed> {
        match r.type_.as_str() {
            "aws_ec2_managed_prefix_list" => self.prefix_list(r),
            "aws_vpc_endpoint" => self.vpc_endpoint(r),
            "aws_vpc_endpoint_service" => {
                let mut p = props_with_tags(r);
                let gwlbs = self.reference_list(r, &r.attr("gateway_load_balancer_arns"))?;
                if !gwlbs.is_empty() {
                    p.insert("GatewayLoadBalancerArns".into(), Value::Array(gwlbs));
                }
                let nlbs = self.reference_list(r, &r.attr("network_load_balancer_arns"))?;
                if !nlbs.is_empty() {
                    p.insert("NetworkLoadBalancerArns".into(), Value::Array(nlbs));
                }
                copy(&mut p, r, "acceptance_required", "AcceptanceRequired");
                let kind = "AWS::EC2::VPCEndpointService";
                self.emit(&r.address, kind, Some(Value::Object(p)));
                Ok(())
            }
            "aws_lb" => self.load_balancer(r),
            "aws_lb_target_group" => self.target_group(r),
            "aws_lb_listener" => self.listener(r),
            _ => Ok(()),
        }
    }

    fn prefix_list(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        copy(&mut p, r, "name", "PrefixListName");
        copy(&mut p, r, "address_family", "AddressFamily");
        copy(&mut p, r, "max_entries", "MaxEntries");
        let mut entries: Vec<Value> = Vec::new();
        let inline = r.get("entry").and_then(Value::as_array).cloned();
        for e in inline.iter().flatten() {
            let Some(cidr) = e.get("cidr").and_then(Value::as_str) else {
                continue;
            };
            let mut x = Map::new();
            x.insert("Cidr".into(), json!(cidr));
            if let Some(d) = e.get("description").and_then(Value::as_str) {
                if !d.is_empty() {
                    x.insert("Description".into(), json!(d));
                }
            }
            entries.push(Value::Object(x));
        }
        // A refreshed list also shows the entries of `aws_ec2_managed_prefix_list_entry`.
        for e in self.take_folded(r, "Entries") {
            if !entries.iter().any(|x| x.get("Cidr") == e.get("Cidr")) {
                entries.push(e);
            }
        }
        p.insert("Entries".into(), Value::Array(entries));
        self.emit(&r.address, "AWS::EC2::PrefixList", Some(Value::Object(p)));
        Ok(())
    }

    fn vpc_endpoint(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = Map::new();
        p.insert("VpcId".into(), self.required_reference(r, "vpc_id")?);
        let service = self.required(r, "service_name")?.clone();
        p.insert("ServiceName".into(), service);
        copy(&mut p, r, "vpc_endpoint_type", "VpcEndpointType");
        copy(&mut p, r, "private_dns_enabled", "PrivateDnsEnabled");
        for (key, prop) in [
            ("route_table_ids", "RouteTableIds"),
            ("subnet_ids", "SubnetIds"),
            ("security_group_ids", "SecurityGroupIds"),
        ] {
            let list = self.list_with_folded(r, key, prop)?;
            if !list.is_empty() {
                p.insert(prop.into(), Value::Array(list));
            }
        }
        self.emit(&r.address, "AWS::EC2::VPCEndpoint", Some(Value::Object(p)));
        Ok(())
    }

    fn load_balancer(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        copy(&mut p, r, "name", "Name");
        copy(&mut p, r, "load_balancer_type", "Type");
        let internal = r.get("internal").and_then(Value::as_bool).unwrap_or(false);
        let scheme = if internal {
            "internal"
        } else {
            "internet-facing"
        };
        p.insert("Scheme".into(), json!(scheme));
        let mappings = r.get("subnet_mapping").and_then(Value::as_array).cloned();
        let mut list = Vec::new();
        for (i, m) in mappings.iter().flatten().enumerate() {
            let mut x = Map::new();
            let subnet = self.reference(r, &r.nested("subnet_mapping", i, m, "subnet_id"))?;
            let Some(subnet) = subnet else { continue };
            x.insert("SubnetId".into(), subnet);
            let eip = self.reference(r, &r.nested("subnet_mapping", i, m, "allocation_id"))?;
            if let Some(eip) = eip {
                x.insert("AllocationId".into(), eip);
            }
            if let Some(ip) = m.get("private_ipv4_address").and_then(Value::as_str) {
                if !ip.is_empty() {
                    x.insert("PrivateIPv4Address".into(), json!(ip));
                }
            }
            list.push(Value::Object(x));
        }
        if list
            .iter()
            .any(|m| m.get("AllocationId").is_some() || m.get("PrivateIPv4Address").is_some())
        {
            p.insert("SubnetMappings".into(), Value::Array(list));
        } else {
            let mut subnets = self.reference_list(r, &r.attr("subnets"))?;
            for m in list {
                if let Some(s) = m.get("SubnetId") {
                    if !subnets.contains(s) {
                        subnets.push(s.clone());
                    }
                }
            }
            p.insert("Subnets".into(), Value::Array(subnets));
        }
        let groups = self.reference_list(r, &r.attr("security_groups"))?;
        if !groups.is_empty() {
            p.insert("SecurityGroups".into(), Value::Array(groups));
        }
        if let Some(cross) = r
            .get("enable_cross_zone_load_balancing")
            .and_then(Value::as_bool)
        {
            p.insert(
                "LoadBalancerAttributes".into(),
                json!([{"Key": "load_balancing.cross_zone.enabled", "Value": cross.to_string()}]),
            );
        }
        let kind = "AWS::ElasticLoadBalancingV2::LoadBalancer";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }

    fn target_group(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        copy(&mut p, r, "name", "Name");
        copy(&mut p, r, "port", "Port");
        copy(&mut p, r, "protocol", "Protocol");
        copy(&mut p, r, "target_type", "TargetType");
        if let Some(vpc) = self.reference(r, &r.attr("vpc_id"))? {
            p.insert("VpcId".into(), vpc);
        }
        if let Some(hc) = r
            .get("health_check")
            .and_then(Value::as_array)
            .and_then(|l| l.first())
        {
            for (key, prop) in HEALTH_CHECK {
                if let Some(v) = hc.get(*key).filter(|v| !v.is_null() && *v != "") {
                    p.insert((*prop).into(), v.clone());
                }
            }
        }
        let targets = self.take_folded(r, "Targets");
        if !targets.is_empty() {
            p.insert("Targets".into(), Value::Array(targets));
        }
        let kind = "AWS::ElasticLoadBalancingV2::TargetGroup";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }

    fn listener(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = Map::new();
        let lb = self.required_reference(r, "load_balancer_arn")?;
        p.insert("LoadBalancerArn".into(), lb);
        copy(&mut p, r, "port", "Port");
        copy(&mut p, r, "protocol", "Protocol");
        let actions = r.get("default_action").and_then(Value::as_array).cloned();
        let mut list = Vec::new();
        for (i, a) in actions.iter().flatten().enumerate() {
            let kind = a.get("type").and_then(Value::as_str).unwrap_or("forward");
            let tg = self.reference(r, &r.nested("default_action", i, a, "target_group_arn"))?;
            let mut x = Map::new();
            x.insert("Type".into(), json!(kind));
            if let Some(tg) = tg {
                x.insert("TargetGroupArn".into(), tg);
            }
            list.push(Value::Object(x));
        }
        p.insert("DefaultActions".into(), Value::Array(list));
        let kind = "AWS::ElasticLoadBalancingV2::Listener";
        self.emit(&r.address, kind, Some(Value::Object(p)));
        Ok(())
    }
}
