//! Every template of the third-party corpus (`../shared/corpus/cfn`) loaded the way a user
//! would deploy it: with the parameters they would pass, next to the stacks it builds on (a VPC
//! stack named by `--param VpcId=base.VPC`, exports for `Fn::ImportValue`), and custom-resource
//! attributes given on the command line. Passes with a note when the corpus is absent.
//!
//! Run with `--nocapture` to see each template's outcome and the totals.

mod common;

use common::{corpus, fixture, vpcsim};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A VPC with two public and two private subnets (`VPC`, `PublicSubnet0/1`, `PrivateSubnet0/1`,
/// `PrivateRouteTable0/1`), as stack `base`.
const BASE: &[&str] = &[
    "-t",
    "base=cfn:aws-cfn-templates/VPC_With_Managed_NAT_And_Private_Subnet.yaml",
];
/// widdix's VPC as stack `vpc`: the exports (`vpc-VPC`, `vpc-SubnetsPrivate`, ...) its other
/// templates import through `ParentVPCStack=vpc`.
const WIDDIX: &[&str] = &["-t", "vpc=cfn:widdix/vpc-2azs.yaml"];

/// How a template is expected to load.
enum Expect {
    /// Loads without errors.
    Loads,
    /// Cannot load yet, for the reason given; only these error codes may appear.
    Gap(&'static str, &'static [&'static str]),
}

struct Case {
    file: &'static str,
    /// `-t` of the stacks it builds on, and `--param`, `--custom-attr`, ... (`cfn:` and
    /// `fixture:` stand for the corpus and `tests/fixtures/stacks/`).
    args: Vec<&'static str>,
    expect: Expect,
}

fn case(file: &'static str, parts: &[&[&'static str]], params: &[&'static str]) -> Case {
    let mut args: Vec<&'static str> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    // `--flag VALUE` pairs pass through; anything else is a `--param`.
    let mut flag_value = false;
    for p in params {
        if p.starts_with("--") || flag_value {
            args.push(p);
            flag_value = !flag_value;
        } else {
            args.extend(["--param", p]);
        }
    }
    Case {
        file,
        args,
        expect: Expect::Loads,
    }
}

fn gap(mut c: Case, why: &'static str, codes: &'static [&'static str]) -> Case {
    c.expect = Expect::Gap(why, codes);
    c
}

fn cases() -> Vec<Case> {
    const APP_BASE: &[&str] = &[
        "-t",
        "app=fixture:app.yaml",
        "--param",
        "app:VpcId=base.VPC",
        "--param",
        "app:SubnetId=base.PrivateSubnet0",
    ];
    const APP_WIDDIX: &[&str] = &[
        "-t",
        "app=fixture:app.yaml",
        "--param",
        "app:VpcId=vpc.VPC",
        "--param",
        "app:SubnetId=vpc.SubnetAPrivate",
    ];
    const PEER: &[&str] = &[
        "-t",
        "peer=fixture:network.yaml",
        "--param",
        "peer:VpcCidr=10.1.0.0/16",
    ];
    const REQUESTER: &[&str] = &[
        "-t",
        "req=cfn:aws-cfn-templates/VPCPeering-Requester-Setup.cfn.yaml",
    ];
    let requester_params = [
        "PeerName=peer",
        "PeerOwnerId=123456789012",
        "PeerRoleARN=arn:aws:iam::123456789012:role/peer",
        "PeerVPCID=peer.Vpc",
        "VPCID=base.VPC",
    ];
    let mut peering_updates = requester_params.to_vec();
    peering_updates.extend([
        "NumberOfRouteTables=2",
        "NumberOfSecurityGroups=1",
        "PeerVPCCIDR=10.1.0.0/16",
        "RouteTableIds=base.PrivateRouteTable0,base.PrivateRouteTable1",
        "SecurityGroupIds=app.WebGroup",
        "VPCPeeringConnectionId=req.VPCPeeringConnection",
    ]);
    let service = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
    vec![
        case(
            "aws-cfn-templates/AutoScalingMultiAZWithNotifications.yaml",
            &[],
            &[
                "OperatorEMail=ops@example.com",
                "KeyName=ops",
                "KmsKeyArn=arn:aws:kms:us-east-1:123456789012:key/1",
                "CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/1",
                // Its launch configuration's group has no VpcId: the template is written
                // for the default VPC.
                "SecurityGroups={default-sg}",
                "Subnets={default-subnet-0},{default-subnet-1}",
                "AZs=us-east-1a,us-east-1b",
                "VPC={default-vpc}",
            ],
        ),
        case(
            "aws-cfn-templates/EC2InstanceWithSecurityGroupSample.yaml",
            &[],
            // Its group has no VpcId (default VPC), so the instance's subnet is a default one.
            &["KeyName=ops", "Subnets={default-subnet-0}"],
        ),
        case("aws-cfn-templates/FindInMapAZs.yaml", &[], &[]),
        case(
            "aws-cfn-templates/NetworkLoadBalancerWithEIPs.yaml",
            &[BASE],
            &[
                "VPC=base.VPC",
                "Subnet1=base.PublicSubnet0",
                "Subnet2=base.PublicSubnet1",
            ],
        ),
        case(
            "aws-cfn-templates/SingleENIwithMultipleEIPs.yaml",
            &[BASE],
            &["Subnet=base.PublicSubnet0"],
        ),
        case(
            "aws-cfn-templates/VPCPeering-Requester-Setup.cfn.yaml",
            &[BASE, PEER],
            &requester_params,
        ),
        case(
            "aws-cfn-templates/VPCPeering-Updates.cfn.yaml",
            &[BASE, PEER, APP_BASE, REQUESTER],
            &peering_updates,
        ),
        case(
            "aws-cfn-templates/VPC_EC2_Instance_With_Multiple_Static_IPAddresses.yaml",
            &[BASE],
            &[
                "KeyName=ops",
                "VpcId=base.VPC",
                "SubnetId=base.PublicSubnet0",
                "PrimaryIPAddress=10.0.0.10",
                "SecondaryIPAddress=10.0.0.11",
            ],
        ),
        case(
            "aws-cfn-templates/VPC_With_Managed_NAT_And_Private_Subnet.json",
            &[],
            &[],
        ),
        case(
            "aws-cfn-templates/VPC_With_Managed_NAT_And_Private_Subnet.yaml",
            &[],
            &[],
        ),
        case(
            "aws-cfn-templates/cfn-endpoint-waitcondition-no-igw.yaml",
            &[],
            &["EnvironmentName=test"],
        ),
        case("aws-cfn-templates/private-vpc.yaml", &[], &[]),
        case(
            "aws-cfn-templates/public-service.yaml",
            &[&["-t", "production=cfn:aws-cfn-templates/private-vpc.yaml"]],
            &[],
        ),
        case(
            "aws-samples-anfw/anfw-centralized-egress-east-west-2az-template.yaml",
            &[],
            &[],
        ),
        case(
            "aws-samples-gwlb/DistributedArchitectureSpokeVpc2Az.yaml",
            &[],
            &[
                "AvailabilityZone1=us-east-1a",
                "AvailabilityZone2=us-east-1b",
                "KeyPairName=ops",
                "ServiceName=com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
                "--endpoint-service",
                service,
            ],
        ),
        case(
            "quickstart-aws-vpc/aws-vpc.template.yaml",
            &[],
            &["AvailabilityZones=us-east-1a,us-east-1b"],
        ),
        case(
            "quickstart-cisco-asav-ravpn/quickstart-cisco-asav-ravpn-instance.yaml",
            &[BASE, APP_BASE],
            &[
                "KeyPair=ops",
                "VPCID=base.VPC",
                "VPNUser=u",
                "VPNPassword=p",
                "MgmtSubnet1CIDR=10.0.9.0/24",
                "PrivateSubnet1ID=base.PrivateSubnet0",
                "PublicSubnet1ID=base.PublicSubnet0",
                "DnsName=vpn.example.com",
                "ASAv1HostName=asav1",
                "VPNPoolFrom1=172.16.0.1",
                "VPNPoolTo1=172.16.0.254",
                "VPNPoolCIDRMask1=24",
                "VPCCIDRMASK=16",
                "VPCPOOL=10.0.0.0",
                "OnPremCIDRMask=16",
                "OnPremPool=192.168.0.0",
                "PrivateSubnet1GW=10.0.2.1",
                "PrivateSubnet1CIDR=10.0.2.0/24",
                "PrivateSubnet1Pool=10.0.2.0",
                "PrivateSubnet1CIDRMask=24",
                "PublicHostedZone=example.com",
                "MgmtRouteTable=base.PublicRouteTable",
                "ASAvInstanceSGMGMT=app.WebGroup",
                "ASAvInstanceSGOUTSIDE=app.WebGroup",
                "ASAvInstanceSGINSIDE=app.WebGroup",
                "InstanceIdentifier=1",
            ],
        ),
        gap(case(
            "quickstart-cisco-asav-ravpn/quickstart-cisco-asav-ravpn-tgw.yaml",
            &[BASE],
            &[
                "PrivateSubnet1ARouteTable=base.PrivateRouteTable0",
                "PrivateSubnet2ARouteTable=base.PrivateRouteTable1",
                "OnPremFirewallPublicIP=203.0.113.10",
                "OnPremFirewallASN=65000",
                "PreSharedKeyForVPNAttachment=secret123",
                "AmazonSideAsn=64512",
                "VPNTunnelCIDRs=169.254.10.0/30,169.254.11.0/30",
                "VPCID=base.VPC",
                "TGWSubnet1CIDR=10.0.10.0/28",
                "TGWSubnet2CIDR=10.0.10.16/28",
                "TGWSubnet3CIDR=10.0.10.32/28",
                "TGWSubnet4CIDR=10.0.10.48/28",
                "VPNPoolCIDR1=172.16.0.0/24",
                "VPNPoolCIDR2=172.16.1.0/24",
                "VPNPoolCIDR3=172.16.2.0/24",
                "VPNPoolCIDR4=172.16.3.0/24",
                "OnPremCIDR=192.168.0.0/16",
                "AvailabilityZones=us-east-1a,us-east-1b",
                "NumberOfAZs=2",
                "NumberOfASAv=2",
                "QSS3BucketName=aws-quickstart",
                "QSS3KeyPrefix=quickstart-cisco-asav-ravpn/",
                "QSS3BucketRegion=us-east-1",
                // The Lambda-backed custom resource looks up the attachment the VPN connection
                // made on the transit gateway.
                "--custom-attr",
                "quickstart-cisco-asav-ravpn-tgw.TransitGatewayProperties.vpn1_tgw_attachment_id=quickstart-cisco-asav-ravpn-tgw.VPNAttachment.TransitGatewayAttachmentId",
            ],
        ),
        "its routes go to the ASAv instances' interfaces, parameters that default to 'null' and name interfaces of a stack outside the corpus; CreateRoute refuses 'null'",
        &["InvalidNetworkInterfaceID.NotFound"]),
        case(
            "quickstart-cisco-meraki-sd-wan-vmx/quickstart-cisco-meraki-sdwan-vmx-tgw.yaml",
            &[BASE],
            &[
                "VPCID=base.VPC",
                "AvailabilityZone1SubnetID=base.PrivateSubnet0",
                "AvailabilityZone2SubnetID=base.PrivateSubnet1",
                "AmazonSideASN=64512",
                "SDWANVPCRTID=base.PrivateRouteTable0",
                "MerakiOrgID=123456",
                "MerakiAPIKey=0123456789abcdef",
            ],
        ),
        case(
            "quickstart-compliance-common/nat-instance.template",
            &[WIDDIX, APP_WIDDIX, &["-t", "eip=fixture:eip.yaml"]],
            &[
                "pDMZSubnetA=vpc.SubnetAPublic",
                "pSecurityGroupSSHFromVpc=app.WebGroup",
                "pSecurityGroupVpcNat=app.WebGroup",
                "pEC2KeyPair=ops",
                "pNatAmi=ami-12345678",
                "pVpcName=vpc",
                "pRouteTablePrivateA=vpc.RouteTablePrivate",
                "pRouteTablePrivateB=vpc.RouteTableBPrivate",
                "pEipNatAllocationId=eip.Address",
            ],
        ),
        // The Default of both private subnets repeats the DMZ subnets' CIDR.
        case(
            "quickstart-compliance-common/vpc-management.template",
            &[],
            &[
                "pManagementPrivateSubnetACIDR=10.10.30.0/24",
                "pManagementPrivateSubnetBCIDR=10.10.40.0/24",
                // The default second zone is us-west-1c, outside the Region.
                "pRegionAZ2Name=us-east-1c",
            ],
        ),
        case(
            "quickstart-compliance-common/vpc-production.template",
            &[],
            &[
                "pRegionAZ1Name=us-east-1a",
                "pRegionAZ2Name=us-east-1b",
                "pManagementCIDR=10.10.0.0/16",
                // The defaults of three subnets have host bits set, which CreateSubnet refuses.
                "pAppPrivateSubnetBCIDR=10.100.120.0/21",
                "pDBPrivateSubnetACIDR=10.100.192.0/21",
                "pDBPrivateSubnetBCIDR=10.100.208.0/21",
            ],
        ),
        case(
            "rain/autoscaling-succeed.yaml",
            &[],
            &[
                "OperatorEMail=ops@example.com",
                "KmsKeyArn=arn:aws:kms:us-east-1:123456789012:key/1",
                "CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/1",
            ],
        ),
        // Its instances have no subnet: they launch in the default VPC; its application load
        // balancer and target groups name the author's default subnets and VPC.
        gap(
            case("troposphere/ApplicationELB.template", &[], &[]),
            "its application load balancer names subnet-096fd06d and its target groups vpc-82c514e6, the default subnet and VPC of the author's account (tests/aws_validation.rs loads it with the default VPC's ids)",
            &["InvalidSubnetID.NotFound", "InvalidVpcID.NotFound"],
        ),
        gap(
            case("troposphere/NetworkLB.template", &[], &[]),
            "its load balancer names subnet-096fd06d, a default subnet of the author's account, and listens with HTTP, which a network load balancer refuses",
            &["InvalidSubnetID.NotFound", "InvalidVpcID.NotFound", "ValidationError", "InvalidConfigurationRequest", "UnsupportedProtocol"],
        ),
        case(
            "troposphere/VPC_With_VPN_Connection.template",
            &[],
            &["VPNAddress=203.0.113.10"],
        ),
        case(
            "troposphere/VPC_single_instance_in_subnet.template",
            &[],
            &["KeyName=ops"],
        ),
        case(
            "widdix/al2-mutable-public.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc", "AmazonLinux2Version=20240109.0"],
        ),
        case("widdix/cluster.yaml", &[WIDDIX], &["ParentVPCStack=vpc"]),
        case(
            "widdix/service-cluster-alb.yaml",
            &[WIDDIX, &["-t", "cluster=cfn:widdix/cluster.yaml"]],
            &[
                "ParentVPCStack=vpc",
                "ParentClusterStack=cluster",
                "Image=nginx",
            ],
        ),
        case("widdix/vpc-2azs.yaml", &[], &[]),
        case("widdix/vpc-3azs.yaml", &[], &[]),
        case("widdix/vpc-4azs.yaml", &[], &[]),
        case(
            "widdix/vpc-endpoint-dynamodb.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc"],
        ),
        case(
            "widdix/vpc-endpoint-s3.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc"],
        ),
        case(
            "widdix/vpc-endpoint.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc", "ServiceName=ssm"],
        ),
        case(
            "widdix/vpc-nat-gateway.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc"],
        ),
        case(
            "widdix/vpc-nat-instance.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc"],
        ),
        case(
            "widdix/vpc-ssh-bastion.yaml",
            &[WIDDIX],
            &["ParentVPCStack=vpc"],
        ),
    ]
}

fn templates(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            templates(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["yaml", "yml", "json", "template"].contains(&e))
        {
            out.push(p);
        }
    }
}

/// The ids of the account's default VPC (they depend only on the account and Region), for the
/// `{default-vpc}`, `{default-subnet-N}` and `{default-sg}` placeholders of templates written
/// for it.
fn default_vpc_ids(dir: &Path) -> Vec<(String, String)> {
    let any = dir.join("aws-cfn-templates/FindInMapAZs.yaml");
    let o = vpcsim([
        "validate",
        "--json",
        "--default-vpc",
        "-t",
        &any.display().to_string(),
    ]);
    let v: Value = serde_json::from_str(&o.stdout).expect("validate --json");
    let d = &v["default_vpc"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut ids = vec![
        ("{default-vpc}".to_string(), text(&d["vpc_id"])),
        (
            "{default-sg}".to_string(),
            text(&d["default_security_group_id"]),
        ),
    ];
    for (i, s) in d["subnets"].as_array().into_iter().flatten().enumerate() {
        ids.push((format!("{{default-subnet-{i}}}"), text(&s["subnet_id"])));
    }
    ids
}

#[test]
fn corpus_templates_load_with_the_parameters_a_user_passes() {
    let Some(dir) = corpus("cfn") else {
        eprintln!("note: ../shared/corpus/cfn is absent: corpus stacks test skipped");
        return;
    };
    let cases = cases();
    let mut files = Vec::new();
    templates(&dir, &mut files);
    for f in &files {
        let rel = f.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
        assert!(
            cases.iter().any(|c| c.file == rel),
            "{rel} has no row in the table"
        );
    }
    let corpus_prefix = format!("{}/", dir.display());
    let fixture_prefix = format!("{}/", fixture("stacks").display());
    let default_vpc = default_vpc_ids(&dir);
    let (mut loaded, mut gaps, mut problems) = (0, 0, Vec::new());
    for c in &cases {
        let mut args: Vec<String> = ["validate", "--json"].map(String::from).to_vec();
        args.extend(c.args.iter().map(|a| {
            let a = a
                .replace("cfn:", &corpus_prefix)
                .replace("fixture:", &fixture_prefix);
            default_vpc.iter().fold(a, |a, (k, v)| a.replace(k, v))
        }));
        args.extend(["-t".into(), dir.join(c.file).display().to_string()]);
        let o = vpcsim(&args);
        let v: Value = match serde_json::from_str(&o.stdout) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!(
                    "{}: exit {}, not JSON ({e}): {}",
                    c.file, o.code, o.stderr
                ));
                continue;
            }
        };
        let errors: Vec<(String, String)> = v["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["code"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        match (&c.expect, errors.is_empty()) {
            (_, true) if o.code == 0 => {
                loaded += 1;
                eprintln!("loads  {}", c.file);
            }
            (Expect::Gap(why, codes), false)
                if errors
                    .iter()
                    .all(|(code, _)| codes.contains(&code.as_str())) =>
            {
                gaps += 1;
                eprintln!("gap    {}: {why}", c.file);
            }
            _ => problems.push(format!("{}: exit {}: {errors:?}", c.file, o.code)),
        }
    }
    eprintln!(
        "{loaded} of {} templates load, {gaps} cannot as given (see the reasons above)",
        cases.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
