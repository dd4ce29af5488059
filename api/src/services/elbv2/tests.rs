//! ELBv2 through `handle`, on a store seeded with a VPC in two zones, an instance and an
//! Elastic IP; answers read back as botocore reads them.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::*;
use crate::services::test_support::{botocore_parse, query_call, t0, xml_of, xml_to_json};

const R: &str = "us-east-1";

fn seeded() -> Store {
    let s = Store::open(None).unwrap();
    s.write(|tx| {
        tx.put(R, "Vpcs", "vpc-1", &json!({"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}))?;
        tx.put(R, "Vpcs", "vpc-2", &json!({"VpcId": "vpc-2", "CidrBlock": "10.9.0.0/16"}))?;
        for (id, az, cidr, vpc) in [
            ("subnet-a", "us-east-1a", "10.0.1.0/24", "vpc-1"),
            ("subnet-b", "us-east-1b", "10.0.2.0/24", "vpc-1"),
            ("subnet-a2", "us-east-1a", "10.0.3.0/24", "vpc-1"),
            ("subnet-x", "us-east-1a", "10.9.1.0/24", "vpc-2"),
        ] {
            tx.put(R, "Subnets", id, &json!({"SubnetId": id, "AvailabilityZone": az, "CidrBlock": cidr, "VpcId": vpc}))?;
        }
        tx.put(R, "SecurityGroups", "sg-d", &json!({"GroupId": "sg-d", "GroupName": "default", "VpcId": "vpc-1"}))?;
        tx.put(R, "SecurityGroups", "sg-web", &json!({"GroupId": "sg-web", "GroupName": "web", "VpcId": "vpc-1"}))?;
        // 10.0.1.4 is taken by an instance: the first node must get 10.0.1.5.
        tx.put(R, "Reservations", "r-1", &json!({"ReservationId": "r-1", "Instances": [
            {"InstanceId": "i-1", "VpcId": "vpc-1", "SubnetId": "subnet-a", "PrivateIpAddress": "10.0.1.4", "State": {"Code": 16, "Name": "running"}}]}))?;
        tx.put(R, "Addresses", "eipalloc-1", &json!({"AllocationId": "eipalloc-1", "PublicIp": "198.51.100.7", "Domain": "vpc"}))
    })
    .unwrap();
    s
}

fn call_at(
    store: &Store,
    action: &str,
    pairs: &[(&str, &str)],
    now: SystemTime,
) -> Result<Value, ApiError> {
    let c = query_call(Service::Elbv2, action, pairs, now);
    let reply = handle_with(store, &c, &FakeHealth)?;
    assert!(c.was_authorized(), "{action} did not authorize");
    let v = xml_to_json(xml_of(&reply));
    Ok(v[format!("{action}Response")][format!("{action}Result")].clone())
}

fn call(store: &Store, action: &str, pairs: &[(&str, &str)]) -> Result<Value, ApiError> {
    call_at(store, action, pairs, t0())
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn code(r: Result<Value, ApiError>) -> String {
    r.expect_err("an error").code
}

/// Every checked target is healthy, except those on port 8081 which time out.
#[derive(Debug)]
struct FakeHealth;

impl TargetHealthSource for FakeHealth {
    fn target_health(
        &self,
        _: &str,
        _: &Value,
        targets: &[Value],
    ) -> Result<Vec<TargetHealth>, ApiError> {
        Ok(targets
            .iter()
            .map(|t| {
                if t["Port"] == json!(8081) {
                    TargetHealth {
                        state: "unhealthy".into(),
                        reason: Some("Target.Timeout".into()),
                        description: Some("Request timed out".into()),
                    }
                } else {
                    TargetHealth {
                        state: "healthy".into(),
                        reason: None,
                        description: None,
                    }
                }
            })
            .collect())
    }
}

fn alb(store: &Store) -> String {
    let v = call(
        store,
        "CreateLoadBalancer",
        &[
            ("Name", "web"),
            ("Subnets.member.1", "subnet-a"),
            ("Subnets.member.2", "subnet-b"),
            ("Tags.member.1.Key", "Name"),
            ("Tags.member.1.Value", "web-alb"),
        ],
    )
    .unwrap();
    v["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_string()
}

fn target_group(store: &Store, name: &str, protocol: &str, port: &str) -> String {
    let v = call(
        store,
        "CreateTargetGroup",
        &[
            ("Name", name),
            ("Protocol", protocol),
            ("Port", port),
            ("VpcId", "vpc-1"),
        ],
    )
    .unwrap();
    v["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_string()
}

fn listener(store: &Store, lb: &str, port: &str, tg: &str) -> String {
    let v = call(
        store,
        "CreateListener",
        &[
            ("LoadBalancerArn", lb),
            ("Protocol", "HTTP"),
            ("Port", port),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", tg),
        ],
    )
    .unwrap();
    v["Listeners"][0]["ListenerArn"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn application_load_balancer_is_stored_as_the_snapshot_loader_reads_it() {
    let s = seeded();
    let v = call(
        &s,
        "CreateLoadBalancer",
        &[
            ("Name", "web"),
            ("Subnets.member.1", "subnet-a"),
            ("Subnets.member.2", "subnet-b"),
        ],
    )
    .unwrap();
    let lb = &v["LoadBalancers"][0];
    let arn = lb["LoadBalancerArn"].as_str().unwrap();
    assert!(
        arn.starts_with(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/"
        ),
        "{arn}"
    );
    assert_eq!(lb["State"]["Code"], "provisioning");
    assert_eq!(lb["Scheme"], "internet-facing");
    assert_eq!(lb["Type"], "application");
    assert_eq!(
        lb["SecurityGroups"],
        json!(["sg-d"]),
        "an ALB without groups gets the VPC's default group"
    );
    assert!(lb["DNSName"]
        .as_str()
        .unwrap()
        .ends_with(".us-east-1.elb.amazonaws.com"));
    assert_eq!(lb["CanonicalHostedZoneId"], "Z35SXDOTRQ7X7K");
    assert_eq!(lb["AvailabilityZones"][1]["ZoneName"], "us-east-1b");
    // One node interface per subnet, the lowest free address, a public address for an
    // internet-facing balancer, the description the loader matches on.
    let enis = s.read(|tx| tx.list(R, "NetworkInterfaces")).unwrap();
    assert_eq!(enis.len(), 2);
    let tail = arn.split_once(":loadbalancer/").unwrap().1;
    assert_eq!(enis[0]["Description"], format!("ELB {tail}"));
    assert_eq!(enis[0]["PrivateIpAddress"], "10.0.1.5");
    assert_eq!(enis[1]["PrivateIpAddress"], "10.0.2.4");
    assert_eq!(enis[0]["Association"]["PublicIp"], "198.18.0.1");
    assert_eq!(enis[1]["Association"]["PublicIp"], "198.18.0.2");
    assert_eq!(enis[0]["Groups"][0]["GroupId"], "sg-d");
    let attrs = s
        .read(|tx| tx.get(R, "LoadBalancerAttributes", arn))
        .unwrap()
        .unwrap();
    assert_eq!(
        load_balancers::attribute(&attrs, "load_balancing.cross_zone.enabled"),
        Some("true")
    );
    // Active once provisioned.
    let later = call_at(
        &s,
        "DescribeLoadBalancers",
        &[("Names.member.1", "web")],
        t0() + Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(later["LoadBalancers"][0]["State"]["Code"], "active");
}

#[test]
fn network_load_balancer_nodes_carry_elastic_ips_and_the_data_plane_loads_them() {
    let s = seeded();
    let v = call(
        &s,
        "CreateLoadBalancer",
        &[
            ("Name", "nlb"),
            ("Type", "network"),
            ("SubnetMappings.member.1.SubnetId", "subnet-a"),
            ("SubnetMappings.member.1.AllocationId", "eipalloc-1"),
            ("SubnetMappings.member.2.SubnetId", "subnet-b"),
            ("SubnetMappings.member.2.PrivateIPv4Address", "10.0.2.50"),
        ],
    )
    .unwrap();
    let lb = &v["LoadBalancers"][0];
    assert!(lb["DNSName"]
        .as_str()
        .unwrap()
        .contains(".elb.us-east-1.amazonaws.com"));
    assert_eq!(lb["CanonicalHostedZoneId"], "Z26RNL4JYFTOTI");
    assert_eq!(
        lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"],
        "198.51.100.7"
    );
    assert_eq!(
        lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["AllocationId"],
        "eipalloc-1"
    );
    assert_eq!(
        lb["AvailabilityZones"][1]["LoadBalancerAddresses"][0]["PrivateIPv4Address"],
        "10.0.2.50"
    );
    let eip = s
        .read(|tx| tx.get(R, "Addresses", "eipalloc-1"))
        .unwrap()
        .unwrap();
    assert_eq!(eip["PrivateIpAddress"], "10.0.1.5");
    let lb_arn = lb["LoadBalancerArn"].as_str().unwrap().to_string();
    let tg = target_group(&s, "tcp", "TCP", "80");
    call(
        &s,
        "RegisterTargets",
        &[("TargetGroupArn", &tg), ("Targets.member.1.Id", "i-1")],
    )
    .unwrap();
    call(
        &s,
        "CreateListener",
        &[
            ("LoadBalancerArn", &lb_arn),
            ("Protocol", "TCP"),
            ("Port", "80"),
            ("DefaultActions.member.1.Type", "forward"),
            ("DefaultActions.member.1.TargetGroupArn", &tg),
        ],
    )
    .unwrap();
    // The partition, as the server feeds it to the snapshot loader, loads the NLB with its
    // listener and target: the stored shapes are the loader's.
    let files: Vec<vpcsim_controlplane::snapshot::SnapshotFile> = s
        .read(|tx| tx.list_all(R))
        .unwrap()
        .into_iter()
        .filter(|(k, _)| {
            vpcsim_controlplane::snapshot::SUPPORTED_KEYS
                .iter()
                .any(|(s, _)| s == k)
        })
        .map(|(k, docs)| vpcsim_controlplane::snapshot::SnapshotFile {
            path: format!("123456789012/{R}/{k}.json").into(),
            bytes: serde_json::to_vec(&json!({ k.clone(): docs })).unwrap(),
        })
        .collect();
    let loaded = vpcsim_controlplane::snapshot::load_snapshot_files(&files, &Default::default());
    let m = &loaded.model;
    assert_eq!(m.load_balancers.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(m.load_balancers[0].nodes.len(), 2);
    assert_eq!(m.listeners.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(m.target_groups[0].targets.len(), 1);
    // Deleting removes the nodes and frees the Elastic IP.
    call(&s, "DeleteLoadBalancer", &[("LoadBalancerArn", &lb_arn)]).unwrap();
    assert!(s
        .read(|tx| tx.list(R, "NetworkInterfaces"))
        .unwrap()
        .is_empty());
    assert!(s.read(|tx| tx.list(R, "Listeners")).unwrap().is_empty());
    let eip = s
        .read(|tx| tx.get(R, "Addresses", "eipalloc-1"))
        .unwrap()
        .unwrap();
    assert!(eip.get("AssociationId").is_none());
    // ... and deleting it again succeeds, as in AWS.
    call(&s, "DeleteLoadBalancer", &[("LoadBalancerArn", &lb_arn)]).unwrap();
}

#[test]
fn create_load_balancer_errors() {
    let s = seeded();
    alb(&s);
    let same = call(
        &s,
        "CreateLoadBalancer",
        &[
            ("Name", "web"),
            ("Subnets.member.1", "subnet-b"),
            ("Subnets.member.2", "subnet-a"),
        ],
    )
    .unwrap();
    assert_eq!(
        same["LoadBalancers"][0]["LoadBalancerName"], "web",
        "same settings: the existing one"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", "web"),
                ("Scheme", "internal"),
                ("Subnets.member.1", "subnet-a"),
                ("Subnets.member.2", "subnet-b")
            ]
        )),
        "DuplicateLoadBalancerName"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[("Name", "one"), ("Subnets.member.1", "subnet-a")]
        )),
        "InvalidConfigurationRequest"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", "two"),
                ("Subnets.member.1", "subnet-a"),
                ("Subnets.member.2", "subnet-a2")
            ]
        )),
        "InvalidConfigurationRequest"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[("Name", "gone"), ("Subnets.member.1", "subnet-zz")]
        )),
        "SubnetNotFound"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", "sg"),
                ("Subnets.member.1", "subnet-a"),
                ("Subnets.member.2", "subnet-b"),
                ("SecurityGroups.member.1", "sg-nope")
            ]
        )),
        "InvalidSecurityGroup"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[("Name", "bad_name"), ("Subnets.member.1", "subnet-a")]
        )),
        "ValidationError"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", "sch"),
                ("Scheme", "public"),
                ("Subnets.member.1", "subnet-a")
            ]
        )),
        "InvalidScheme"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", "eip"),
                ("SubnetMappings.member.1.SubnetId", "subnet-a"),
                ("SubnetMappings.member.1.AllocationId", "eipalloc-9"),
                ("Type", "network")
            ]
        )),
        "AllocationIdNotFound"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", "dup"),
                ("Subnets.member.1", "subnet-a"),
                ("Subnets.member.2", "subnet-b"),
                ("Tags.member.1.Key", "a"),
                ("Tags.member.2.Key", "a")
            ]
        )),
        "DuplicateTagKeys"
    );
    assert_eq!(
        code(call(
            &s,
            "DescribeLoadBalancers",
            &[("Names.member.1", "nope")]
        )),
        "LoadBalancerNotFound"
    );
    assert_eq!(code(call(&s, "Frobnicate", &[])), "InvalidAction");
    // A failed create left nothing behind.
    assert_eq!(s.read(|tx| tx.list(R, "LoadBalancers")).unwrap().len(), 1);
    assert_eq!(
        s.read(|tx| tx.list(R, "NetworkInterfaces")).unwrap().len(),
        2
    );
}

#[test]
fn describe_load_balancers_pages_with_markers() {
    let s = seeded();
    for n in ["a1", "a2", "a3"] {
        call(
            &s,
            "CreateLoadBalancer",
            &[
                ("Name", n),
                ("Scheme", "internal"),
                ("Subnets.member.1", "subnet-a"),
                ("Subnets.member.2", "subnet-b"),
            ],
        )
        .unwrap();
    }
    let p1 = call(&s, "DescribeLoadBalancers", &[("PageSize", "2")]).unwrap();
    assert_eq!(p1["LoadBalancers"].as_array().unwrap().len(), 2);
    assert!(p1["LoadBalancers"][0]["DNSName"]
        .as_str()
        .unwrap()
        .starts_with("internal-a1-"));
    let marker = p1["NextMarker"].as_str().unwrap();
    let p2 = call(
        &s,
        "DescribeLoadBalancers",
        &[("PageSize", "2"), ("Marker", marker)],
    )
    .unwrap();
    assert_eq!(p2["LoadBalancers"][0]["LoadBalancerName"], "a3");
    assert!(p2.get("NextMarker").is_none());
    assert_eq!(
        code(call(&s, "DescribeLoadBalancers", &[("PageSize", "401")])),
        "ValidationError"
    );
    assert_eq!(
        code(call(&s, "DescribeLoadBalancers", &[("Marker", "bogus")])),
        "ValidationError"
    );
}

#[test]
fn target_groups_targets_and_health() {
    let s = seeded();
    let lb = alb(&s);
    let tg = target_group(&s, "app", "HTTP", "8080");
    let g = call(&s, "DescribeTargetGroups", &[("Names.member.1", "app")]).unwrap();
    let g0 = &g["TargetGroups"][0];
    assert_eq!(g0["HealthCheckPath"], "/");
    assert_eq!(g0["Matcher"]["HttpCode"], "200");
    assert_eq!(g0["HealthCheckTimeoutSeconds"], "5");
    assert_eq!(
        g0.get("LoadBalancerArns"),
        Some(&json!({})),
        "an empty list"
    );
    call(
        &s,
        "RegisterTargets",
        &[
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "i-1"),
            ("Targets.member.2.Id", "i-1"),
            ("Targets.member.2.Port", "8081"),
        ],
    )
    .unwrap();
    assert_eq!(
        code(call(
            &s,
            "RegisterTargets",
            &[("TargetGroupArn", &tg), ("Targets.member.1.Id", "i-404")]
        )),
        "InvalidTarget"
    );
    // Not yet used by a listener: unused, Target.NotInUse.
    let h = call(&s, "DescribeTargetHealth", &[("TargetGroupArn", &tg)]).unwrap();
    assert_eq!(
        h["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"],
        "Target.NotInUse"
    );
    listener(&s, &lb, "80", &tg);
    let h = call(&s, "DescribeTargetHealth", &[("TargetGroupArn", &tg)]).unwrap();
    let d = h["TargetHealthDescriptions"].as_array().unwrap();
    assert_eq!(d[0]["TargetHealth"]["State"], "healthy");
    assert_eq!(d[0]["Target"]["Port"], "8080");
    assert_eq!(d[0]["HealthCheckPort"], "8080");
    assert_eq!(d[1]["TargetHealth"]["State"], "unhealthy");
    assert_eq!(d[1]["TargetHealth"]["Reason"], "Target.Timeout");
    let g = call(&s, "DescribeTargetGroups", &[("LoadBalancerArn", &lb)]).unwrap();
    assert_eq!(g["TargetGroups"][0]["LoadBalancerArns"], json!([lb]));
    call(
        &s,
        "DeregisterTargets",
        &[
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "i-1"),
            ("Targets.member.1.Port", "8081"),
        ],
    )
    .unwrap();
    let h = call(
        &s,
        "DescribeTargetHealth",
        &[
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "i-1"),
            ("Targets.member.1.Port", "8081"),
        ],
    )
    .unwrap();
    assert_eq!(
        h["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"],
        "Target.NotRegistered"
    );
    assert_eq!(
        code(call(&s, "DeleteTargetGroup", &[("TargetGroupArn", &tg)])),
        "ResourceInUse"
    );
    assert_eq!(
        code(call(
            &s,
            "DescribeTargetGroups",
            &[(
                "TargetGroupArns.member.1",
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1"
            )]
        )),
        "TargetGroupNotFound"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateTargetGroup",
            &[
                ("Name", "app"),
                ("Protocol", "HTTP"),
                ("Port", "9090"),
                ("VpcId", "vpc-1")
            ]
        )),
        "DuplicateTargetGroupName"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateTargetGroup",
            &[
                ("Name", "novpc"),
                ("Protocol", "HTTP"),
                ("Port", "80"),
                ("VpcId", "vpc-404")
            ]
        )),
        "ValidationError"
    );
    // Without a data plane, health is HealthUnavailable (500), never invented.
    let c = query_call(
        Service::Elbv2,
        "DescribeTargetHealth",
        &[("TargetGroupArn", &tg)],
        t0(),
    );
    let e = handle(&s, &c).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("HealthUnavailable", 500));
}

#[test]
fn ip_targets_must_be_private_or_in_the_vpc() {
    let s = seeded();
    let v = call(
        &s,
        "CreateTargetGroup",
        &[
            ("Name", "ips"),
            ("Protocol", "TCP"),
            ("Port", "443"),
            ("VpcId", "vpc-1"),
            ("TargetType", "ip"),
        ],
    )
    .unwrap();
    let tg = v["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["TargetGroups"][0]["HealthCheckProtocol"], "TCP");
    assert!(v["TargetGroups"][0].get("HealthCheckPath").is_none());
    call(
        &s,
        "RegisterTargets",
        &[
            ("TargetGroupArn", &tg),
            ("Targets.member.1.Id", "10.0.1.20"),
            ("Targets.member.2.Id", "192.168.5.5"),
        ],
    )
    .unwrap();
    assert_eq!(
        code(call(
            &s,
            "RegisterTargets",
            &[("TargetGroupArn", &tg), ("Targets.member.1.Id", "8.8.8.8")]
        )),
        "InvalidTarget"
    );
    let attrs = call(
        &s,
        "DescribeTargetGroupAttributes",
        &[("TargetGroupArn", &tg)],
    )
    .unwrap();
    let preserve = attrs["Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Key"] == "preserve_client_ip.enabled")
        .unwrap();
    assert_eq!(
        preserve["Value"], "false",
        "ip targets do not preserve the client address by default"
    );
}

#[test]
fn listeners_actions_and_their_errors() {
    let s = seeded();
    let lb = alb(&s);
    let tg = target_group(&s, "app", "HTTP", "80");
    let tcp = target_group(&s, "tcp", "TCP", "80");
    let l = listener(&s, &lb, "80", &tg);
    let again = listener(&s, &lb, "80", &tg);
    assert_eq!(l, again, "same settings: the existing listener");
    let d = call(&s, "DescribeListeners", &[("LoadBalancerArn", &lb)]).unwrap();
    let a = &d["Listeners"][0]["DefaultActions"][0];
    assert_eq!(a["ForwardConfig"]["TargetGroups"][0]["Weight"], "1");
    let fwd = |port: &str, g: &str| {
        vec![
            ("LoadBalancerArn", lb.clone()),
            ("Protocol", "HTTP".into()),
            ("Port", port.into()),
            ("DefaultActions.member.1.Type", "forward".into()),
            ("DefaultActions.member.1.TargetGroupArn", g.into()),
        ]
    };
    let app2 = target_group(&s, "app2", "HTTP", "80");
    let other = fwd("80", &app2);
    assert_eq!(
        code(call(&s, "CreateListener", &pairs(&other))),
        "DuplicateListener"
    );
    let other = fwd("81", &tcp);
    assert_eq!(
        code(call(&s, "CreateListener", &pairs(&other))),
        "IncompatibleProtocols"
    );
    let other = fwd(
        "82",
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1",
    );
    assert_eq!(
        code(call(&s, "CreateListener", &pairs(&other))),
        "TargetGroupNotFound"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateListener",
            &[
                ("LoadBalancerArn", &lb),
                ("Protocol", "TCP"),
                ("Port", "83"),
                ("DefaultActions.member.1.Type", "forward"),
                ("DefaultActions.member.1.TargetGroupArn", &tg)
            ]
        )),
        "UnsupportedProtocol"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateListener",
            &[
                ("LoadBalancerArn", &lb),
                ("Protocol", "HTTPS"),
                ("Port", "443"),
                ("DefaultActions.member.1.Type", "forward"),
                ("DefaultActions.member.1.TargetGroupArn", &tg)
            ]
        )),
        "CertificateNotFound"
    );
}

#[test]
fn listener_redirects_fixed_responses_and_modify() {
    let s = seeded();
    let lb = alb(&s);
    let tg = target_group(&s, "app", "HTTP", "80");
    let l = listener(&s, &lb, "80", &tg);
    let r = call(
        &s,
        "CreateListener",
        &[
            ("LoadBalancerArn", &lb),
            ("Protocol", "HTTP"),
            ("Port", "8080"),
            ("DefaultActions.member.1.Type", "redirect"),
            ("DefaultActions.member.1.RedirectConfig.Protocol", "HTTPS"),
            ("DefaultActions.member.1.RedirectConfig.Port", "443"),
            (
                "DefaultActions.member.1.RedirectConfig.StatusCode",
                "HTTP_301",
            ),
        ],
    )
    .unwrap();
    let rc = &r["Listeners"][0]["DefaultActions"][0]["RedirectConfig"];
    assert_eq!(
        (rc["Host"].as_str(), rc["Path"].as_str()),
        (Some("#{host}"), Some("/#{path}"))
    );
    assert_eq!(
        code(call(
            &s,
            "CreateListener",
            &[
                ("LoadBalancerArn", &lb),
                ("Protocol", "HTTP"),
                ("Port", "8081"),
                ("DefaultActions.member.1.Type", "fixed-response"),
                (
                    "DefaultActions.member.1.FixedResponseConfig.StatusCode",
                    "700"
                )
            ]
        )),
        "ValidationError"
    );
    assert_eq!(
        code(call(
            &s,
            "CreateListener",
            &[
                ("LoadBalancerArn", &lb),
                ("Protocol", "HTTP"),
                ("Port", "8082"),
                ("DefaultActions.member.1.Type", "fixed-response"),
                ("DefaultActions.member.1.Order", "2"),
                (
                    "DefaultActions.member.1.FixedResponseConfig.StatusCode",
                    "503"
                ),
                ("DefaultActions.member.2.Type", "redirect"),
                ("DefaultActions.member.2.Order", "1"),
                (
                    "DefaultActions.member.2.RedirectConfig.StatusCode",
                    "HTTP_302"
                )
            ]
        )),
        "InvalidLoadBalancerAction"
    );
    // Modify moves the port; a target group used by this ALB cannot serve another.
    let m = call(
        &s,
        "ModifyListener",
        &[("ListenerArn", &l), ("Port", "8000")],
    )
    .unwrap();
    assert_eq!(m["Listeners"][0]["Port"], "8000");
    let lb2 = call(
        &s,
        "CreateLoadBalancer",
        &[
            ("Name", "other"),
            ("Subnets.member.1", "subnet-a"),
            ("Subnets.member.2", "subnet-b"),
        ],
    )
    .unwrap();
    let lb2 = lb2["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        code(call(
            &s,
            "CreateListener",
            &[
                ("LoadBalancerArn", &lb2),
                ("Protocol", "HTTP"),
                ("Port", "80"),
                ("DefaultActions.member.1.Type", "forward"),
                ("DefaultActions.member.1.TargetGroupArn", &tg)
            ]
        )),
        "TargetGroupAssociationLimit"
    );
    call(&s, "DeleteListener", &[("ListenerArn", &l)]).unwrap();
    assert_eq!(
        code(call(&s, "DeleteListener", &[("ListenerArn", &l)])),
        "ListenerNotFound"
    );
    assert_eq!(code(call(&s, "DescribeListeners", &[])), "ValidationError");
    call(&s, "DeleteTargetGroup", &[("TargetGroupArn", &tg)]).unwrap();
}

#[test]
fn rules_priorities_and_the_default_rule() {
    let s = seeded();
    let lb = alb(&s);
    let tg = target_group(&s, "app", "HTTP", "80");
    let l = listener(&s, &lb, "80", &tg);
    let rule = |prio: &str, path: &str| {
        call(
            &s,
            "CreateRule",
            &[
                ("ListenerArn", &l),
                ("Priority", prio),
                ("Conditions.member.1.Field", "path-pattern"),
                ("Conditions.member.1.Values.member.1", path),
                ("Actions.member.1.Type", "fixed-response"),
                ("Actions.member.1.FixedResponseConfig.StatusCode", "404"),
            ],
        )
    };
    let r10 = rule("10", "/api/*").unwrap()["Rules"][0]["RuleArn"]
        .as_str()
        .unwrap()
        .to_string();
    let r20 = rule("20", "/img/*").unwrap()["Rules"][0]["RuleArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(r10.contains(":listener-rule/app/web/"));
    assert_eq!(code(rule("10", "/x")), "PriorityInUse");
    assert_eq!(code(rule("0", "/x")), "ValidationError");
    assert_eq!(
        code(call(
            &s,
            "CreateRule",
            &[
                ("ListenerArn", &l),
                ("Priority", "5"),
                ("Conditions.member.1.Field", "host-header"),
                ("Conditions.member.1.Values.member.1", "a.example.com"),
                ("Conditions.member.2.Field", "host-header"),
                ("Conditions.member.2.Values.member.1", "b.example.com"),
                ("Actions.member.1.Type", "forward"),
                ("Actions.member.1.TargetGroupArn", &tg)
            ]
        )),
        "ValidationError"
    );
    let d = call(&s, "DescribeRules", &[("ListenerArn", &l)]).unwrap();
    let rules = d["Rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0]["Priority"], "10");
    assert_eq!(
        rules[0]["Conditions"][0]["PathPatternConfig"]["Values"],
        json!(["/api/*"])
    );
    assert_eq!(rules[2]["Priority"], "default");
    assert_eq!(rules[2]["IsDefault"], "true");
    let default = rules[2]["RuleArn"].as_str().unwrap().to_string();
    assert_eq!(
        code(call(&s, "DeleteRule", &[("RuleArn", &default)])),
        "OperationNotPermitted"
    );
    // Swap 10 and 20 in one call; moving 20 onto 10 alone is refused.
    assert_eq!(
        code(call(
            &s,
            "SetRulePriorities",
            &[
                ("RulePriorities.member.1.RuleArn", &r20),
                ("RulePriorities.member.1.Priority", "10")
            ]
        )),
        "PriorityInUse"
    );
    let sw = call(
        &s,
        "SetRulePriorities",
        &[
            ("RulePriorities.member.1.RuleArn", &r20),
            ("RulePriorities.member.1.Priority", "10"),
            ("RulePriorities.member.2.RuleArn", &r10),
            ("RulePriorities.member.2.Priority", "20"),
        ],
    )
    .unwrap();
    assert_eq!(sw["Rules"][0]["RuleArn"], r20.as_str());
    assert_eq!(
        code(call(
            &s,
            "SetRulePriorities",
            &[
                ("RulePriorities.member.1.RuleArn", &default),
                ("RulePriorities.member.1.Priority", "3")
            ]
        )),
        "OperationNotPermitted"
    );
    let m = call(
        &s,
        "ModifyRule",
        &[
            ("RuleArn", &r10),
            ("Conditions.member.1.Field", "http-request-method"),
            (
                "Conditions.member.1.HttpRequestMethodConfig.Values.member.1",
                "GET",
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        m["Rules"][0]["Conditions"][0]["HttpRequestMethodConfig"]["Values"],
        json!(["GET"])
    );
    assert_eq!(
        code(call(
            &s,
            "ModifyRule",
            &[
                ("RuleArn", &default),
                ("Conditions.member.1.Field", "path-pattern"),
                ("Conditions.member.1.Values.member.1", "/")
            ]
        )),
        "OperationNotPermitted"
    );
    call(&s, "DeleteRule", &[("RuleArn", &r10)]).unwrap();
    assert_eq!(
        code(call(&s, "DescribeRules", &[("RuleArns.member.1", &r10)])),
        "RuleNotFound"
    );
}

#[test]
fn attributes_and_tags() {
    let s = seeded();
    let lb = alb(&s);
    let a = call(
        &s,
        "ModifyLoadBalancerAttributes",
        &[
            ("LoadBalancerArn", &lb),
            ("Attributes.member.1.Key", "deletion_protection.enabled"),
            ("Attributes.member.1.Value", "true"),
        ],
    )
    .unwrap();
    assert!(a["Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["Key"] == "deletion_protection.enabled" && x["Value"] == "true"));
    assert_eq!(
        code(call(&s, "DeleteLoadBalancer", &[("LoadBalancerArn", &lb)])),
        "OperationNotPermitted"
    );
    assert_eq!(
        code(call(
            &s,
            "ModifyLoadBalancerAttributes",
            &[
                ("LoadBalancerArn", &lb),
                ("Attributes.member.1.Key", "nope"),
                ("Attributes.member.1.Value", "1")
            ]
        )),
        "InvalidConfigurationRequest"
    );
    assert_eq!(
        code(call(
            &s,
            "ModifyLoadBalancerAttributes",
            &[
                ("LoadBalancerArn", &lb),
                (
                    "Attributes.member.1.Key",
                    "load_balancing.cross_zone.enabled"
                ),
                ("Attributes.member.1.Value", "false")
            ]
        )),
        "InvalidConfigurationRequest"
    );
}

#[test]
fn target_group_attributes_and_tags() {
    let s = seeded();
    let lb = alb(&s);
    let tg = target_group(&s, "app", "HTTP", "80");
    assert_eq!(
        code(call(
            &s,
            "ModifyTargetGroupAttributes",
            &[
                ("TargetGroupArn", &tg),
                (
                    "Attributes.member.1.Key",
                    "deregistration_delay.timeout_seconds"
                ),
                ("Attributes.member.1.Value", "4000")
            ]
        )),
        "InvalidConfigurationRequest"
    );
    call(
        &s,
        "ModifyTargetGroupAttributes",
        &[
            ("TargetGroupArn", &tg),
            (
                "Attributes.member.1.Key",
                "deregistration_delay.timeout_seconds",
            ),
            ("Attributes.member.1.Value", "30"),
        ],
    )
    .unwrap();
    let m = call(
        &s,
        "ModifyTargetGroup",
        &[
            ("TargetGroupArn", &tg),
            ("HealthCheckPath", "/health"),
            ("HealthCheckIntervalSeconds", "10"),
        ],
    )
    .unwrap();
    assert_eq!(m["TargetGroups"][0]["HealthCheckPath"], "/health");
    assert_eq!(
        code(call(
            &s,
            "ModifyTargetGroup",
            &[
                ("TargetGroupArn", &tg),
                ("HealthCheckIntervalSeconds", "5"),
                ("HealthCheckTimeoutSeconds", "6")
            ]
        )),
        "InvalidConfigurationRequest"
    );
    call(
        &s,
        "AddTags",
        &[
            ("ResourceArns.member.1", &lb),
            ("ResourceArns.member.2", &tg),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "prod"),
        ],
    )
    .unwrap();
    call(
        &s,
        "RemoveTags",
        &[("ResourceArns.member.1", &lb), ("TagKeys.member.1", "Name")],
    )
    .unwrap();
    let t = call(
        &s,
        "DescribeTags",
        &[
            ("ResourceArns.member.1", &lb),
            ("ResourceArns.member.2", &tg),
        ],
    )
    .unwrap();
    assert_eq!(
        t["TagDescriptions"][0]["Tags"],
        json!([{"Key": "env", "Value": "prod"}])
    );
    assert_eq!(t["TagDescriptions"][1]["ResourceArn"], tg.as_str());
    // Tags stay out of describe answers, as in AWS.
    let d = call(
        &s,
        "DescribeLoadBalancers",
        &[("LoadBalancerArns.member.1", &lb)],
    )
    .unwrap();
    assert!(d["LoadBalancers"][0].get("Tags").is_none());
    assert_eq!(
        code(call(
            &s,
            "DescribeTags",
            &[(
                "ResourceArns.member.1",
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"
            )]
        )),
        "LoadBalancerNotFound"
    );
}

#[test]
fn answers_parse_with_botocore() {
    let s = seeded();
    let lb = alb(&s);
    let tg = target_group(&s, "app", "HTTP", "80");
    call(
        &s,
        "RegisterTargets",
        &[("TargetGroupArn", &tg), ("Targets.member.1.Id", "i-1")],
    )
    .unwrap();
    let l = listener(&s, &lb, "80", &tg);
    for (op, pairs) in [
        ("DescribeLoadBalancers", vec![]),
        ("DescribeTargetGroups", vec![]),
        ("DescribeListeners", vec![("LoadBalancerArn", lb.as_str())]),
        ("DescribeRules", vec![("ListenerArn", l.as_str())]),
        (
            "DescribeTargetHealth",
            vec![("TargetGroupArn", tg.as_str())],
        ),
        (
            "DescribeLoadBalancerAttributes",
            vec![("LoadBalancerArn", lb.as_str())],
        ),
    ] {
        let c = query_call(Service::Elbv2, op, &pairs, t0());
        let body = xml_of(&handle_with(&s, &c, &FakeHealth).unwrap()).to_string();
        let Some(parsed) = botocore_parse("elbv2", op, 200, &body) else {
            return;
        };
        match op {
            "DescribeLoadBalancers" => {
                let lb0 = &parsed["LoadBalancers"][0];
                assert_eq!(lb0["LoadBalancerArn"], lb.as_str());
                assert_eq!(lb0["AvailabilityZones"].as_array().unwrap().len(), 2);
                assert_eq!(lb0["SecurityGroups"], json!(["sg-d"]));
            }
            "DescribeTargetGroups" => {
                assert_eq!(parsed["TargetGroups"][0]["Port"], 80);
                assert_eq!(parsed["TargetGroups"][0]["HealthCheckEnabled"], true);
                assert_eq!(parsed["TargetGroups"][0]["LoadBalancerArns"], json!([lb]));
            }
            "DescribeListeners" => assert_eq!(
                parsed["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][0]
                    ["Weight"],
                1
            ),
            "DescribeRules" => assert_eq!(parsed["Rules"][0]["IsDefault"], true),
            "DescribeTargetHealth" => assert_eq!(
                parsed["TargetHealthDescriptions"][0]["TargetHealth"]["State"],
                "healthy"
            ),
            _ => assert!(!parsed["Attributes"].as_array().unwrap().is_empty()),
        }
    }
    let e = ApiError::client(
        "LoadBalancerNotFound",
        "One or more load balancers not found",
    );
    let body = e.render(crate::service::Protocol::Query, Service::Elbv2.xmlns(), "r");
    let Some(parsed) = botocore_parse("elbv2", "DescribeLoadBalancers", 400, &body) else {
        return;
    };
    assert_eq!(parsed["Error"]["Code"], "LoadBalancerNotFound");
}

#[test]
fn set_security_groups_moves_the_nodes_too() {
    let s = seeded();
    let lb = alb(&s);
    let v = call(
        &s,
        "SetSecurityGroups",
        &[
            ("LoadBalancerArn", &lb),
            ("SecurityGroups.member.1", "sg-web"),
        ],
    )
    .unwrap();
    assert_eq!(v["SecurityGroupIds"], json!(["sg-web"]));
    let enis = s.read(|tx| tx.list(R, "NetworkInterfaces")).unwrap();
    assert!(enis.iter().all(|e| e["Groups"][0]["GroupId"] == "sg-web"));
    assert_eq!(
        code(call(
            &s,
            "SetSecurityGroups",
            &[
                ("LoadBalancerArn", &lb),
                ("SecurityGroups.member.1", "sg-404")
            ]
        )),
        "InvalidSecurityGroup"
    );
    assert_eq!(
        code(call(&s, "SetSecurityGroups", &[("LoadBalancerArn", &lb)])),
        "ValidationError"
    );
    let nlb = call(
        &s,
        "CreateLoadBalancer",
        &[
            ("Name", "n"),
            ("Type", "network"),
            ("Subnets.member.1", "subnet-a"),
        ],
    )
    .unwrap();
    let nlb = nlb["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        code(call(
            &s,
            "SetSecurityGroups",
            &[
                ("LoadBalancerArn", &nlb),
                ("SecurityGroups.member.1", "sg-web")
            ]
        )),
        "InvalidConfigurationRequest"
    );
}
