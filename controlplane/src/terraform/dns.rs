//! Route 53: `aws_route53_zone` (private with `vpc` blocks), `aws_route53_record` (values,
//! aliases, weighted, failover and multivalue routing) and `aws_route53_health_check`, as
//! `AWS::Route53::HostedZone`, `AWS::Route53::RecordSet` and `AWS::Route53::HealthCheck`.

use super::*;

/// The Terraform types of this module.
pub(super) const TYPES: &[&str] = &[
    "aws_route53_zone",
    "aws_route53_record",
    "aws_route53_health_check",
];

/// The first element of a nested block list (`alias`, `weighted_routing_policy`).
fn block<'r>(r: &'r Res, key: &str) -> Option<&'r Value> {
    r.get(key).and_then(Value::as_array).and_then(|l| l.first())
}

impl Tx {
    pub(super) fn dns(&mut self, r: &Res) -> Result<(), Failed> {
        match r.type_.as_str() {
            "aws_route53_zone" => self.hosted_zone(r),
            "aws_route53_record" => self.record(r),
            "aws_route53_health_check" => {
                let mut config = Map::new();
                config.insert("Type".into(), self.required(r, "type")?.clone());
                copy(&mut config, r, "invert_healthcheck", "Inverted");
                copy(&mut config, r, "ip_address", "IPAddress");
                copy(&mut config, r, "port", "Port");
                copy(&mut config, r, "fqdn", "FullyQualifiedDomainName");
                let mut p = props_with_tags(r);
                p.insert("HealthCheckConfig".into(), Value::Object(config));
                let kind = "AWS::Route53::HealthCheck";
                self.emit(&r.address, kind, Some(Value::Object(p)));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn hosted_zone(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = props_with_tags(r);
        let name = self.required(r, "name")?.clone();
        p.insert("Name".into(), name);
        let vpcs = r.get("vpc").and_then(Value::as_array).cloned();
        let mut list = Vec::new();
        for (i, v) in vpcs.iter().flatten().enumerate() {
            let Some(vpc) = self.reference(r, &r.nested("vpc", i, v, "vpc_id"))? else {
                continue;
            };
            let region = v
                .get("vpc_region")
                .filter(|x| x.as_str().is_some_and(|s| !s.is_empty()))
                .cloned()
                .unwrap_or_else(|| json!({"Ref": "AWS::Region"}));
            list.push(json!({"VPCId": vpc, "VPCRegion": region}));
        }
        if !list.is_empty() {
            p.insert("VPCs".into(), Value::Array(list));
        }
        self.emit(
            &r.address,
            "AWS::Route53::HostedZone",
            Some(Value::Object(p)),
        );
        Ok(())
    }

    fn record(&mut self, r: &Res) -> Result<(), Failed> {
        let mut p = Map::new();
        p.insert(
            "HostedZoneId".into(),
            self.required_reference(r, "zone_id")?,
        );
        // `fqdn` is the name Route 53 stores; `name` may be relative to the zone.
        let name = match r
            .get("fqdn")
            .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        {
            Some(f) => f.clone(),
            None => self.required(r, "name")?.clone(),
        };
        p.insert("Name".into(), name);
        p.insert("Type".into(), self.required(r, "type")?.clone());
        copy(&mut p, r, "ttl", "TTL");
        if let Some(records) = r.get("records").and_then(Value::as_array) {
            if !records.is_empty() {
                p.insert("ResourceRecords".into(), Value::Array(records.clone()));
            }
        }
        copy(&mut p, r, "set_identifier", "SetIdentifier");
        if let Some(a) = block(r, "alias") {
            let a = a.clone();
            // An alias to a resource of the file (a load balancer) follows its DNS name.
            let target = r.nested("alias", 0, &a, "name");
            let dns_name = match target.value.and_then(Value::as_str) {
                Some(n) if self.target_of_id(n).is_none() => json!(n),
                _ => match self.reference(r, &target)? {
                    Some(v) => v,
                    None => {
                        return Err(self.error(
                            r,
                            "InvalidTerraform.MissingAttribute",
                            "alias[0].name is missing",
                        ))
                    }
                },
            };
            let zone = a.get("zone_id").cloned().unwrap_or(json!(""));
            let evaluate = a
                .get("evaluate_target_health")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            p.insert(
                "AliasTarget".into(),
                json!({"DNSName": dns_name, "HostedZoneId": zone, "EvaluateTargetHealth": evaluate}),
            );
        }
        if let Some(w) = block(r, "weighted_routing_policy").and_then(|w| w.get("weight")) {
            p.insert("Weight".into(), w.clone());
        }
        if let Some(f) = block(r, "failover_routing_policy").and_then(|f| f.get("type")) {
            p.insert("Failover".into(), f.clone());
        }
        if r.get("multivalue_answer_routing_policy")
            .and_then(Value::as_bool)
            == Some(true)
        {
            p.insert("MultiValueAnswer".into(), json!(true));
        }
        if let Some(h) = self.reference(r, &r.attr("health_check_id"))? {
            p.insert("HealthCheckId".into(), h);
        }
        self.emit(
            &r.address,
            "AWS::Route53::RecordSet",
            Some(Value::Object(p)),
        );
        Ok(())
    }
}
