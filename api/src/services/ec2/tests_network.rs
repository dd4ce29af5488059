//! Handler tests of peering, transit gateways, endpoints and prefix lists: their error cases,
//! on an in-memory store.

use crate::call::Reply;
use crate::error::ApiError;
use crate::params::Params;
use crate::store::Store;

fn run(store: &Store, action: &str, pairs: &[(&str, &str)]) -> Result<String, ApiError> {
    let call = super::tests::call_with(action, Params::from_pairs(pairs.iter().copied()));
    match super::handle(store, &call)? {
        Reply::Xml(x) => {
            assert!(call.was_authorized(), "{action} never authorised");
            Ok(x)
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn code(store: &Store, action: &str, pairs: &[(&str, &str)]) -> String {
    match run(store, action, pairs) {
        Ok(x) => panic!("{action} succeeded: {x}"),
        Err(e) => e.code,
    }
}

fn between(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    xml[start..end].to_string()
}

fn vpc(store: &Store, cidr: &str) -> String {
    between(
        &run(store, "CreateVpc", &[("CidrBlock", cidr)]).unwrap(),
        "vpcId",
    )
}

fn subnet(store: &Store, vpc: &str, cidr: &str, zone: &str) -> String {
    let x = run(
        store,
        "CreateSubnet",
        &[
            ("VpcId", vpc),
            ("CidrBlock", cidr),
            ("AvailabilityZone", zone),
        ],
    )
    .unwrap();
    between(&x, "subnetId")
}

#[test]
fn peering_errors() {
    let store = Store::open(None).unwrap();
    let a = vpc(&store, "10.1.0.0/16");
    let b = vpc(&store, "10.2.0.0/16");
    assert_eq!(
        code(
            &store,
            "CreateVpcPeeringConnection",
            &[("VpcId", &a), ("PeerVpcId", &a)]
        ),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(
            &store,
            "CreateVpcPeeringConnection",
            &[("VpcId", &a), ("PeerVpcId", "vpc-0000000000000000f")]
        ),
        "InvalidVpcID.NotFound"
    );
    assert_eq!(
        code(
            &store,
            "CreateVpcPeeringConnection",
            &[
                ("VpcId", &a),
                ("PeerVpcId", &b),
                ("PeerRegion", "eu-west-1")
            ]
        ),
        "UnsupportedOperation"
    );
    let x = run(
        &store,
        "CreateVpcPeeringConnection",
        &[("VpcId", &a), ("PeerVpcId", &b)],
    )
    .unwrap();
    let pcx = between(&x, "vpcPeeringConnectionId");
    assert_eq!(
        code(
            &store,
            "CreateVpcPeeringConnection",
            &[("VpcId", &b), ("PeerVpcId", &a)]
        ),
        "VpcPeeringConnectionAlreadyExists"
    );
    assert_eq!(
        code(
            &store,
            "AcceptVpcPeeringConnection",
            &[("VpcPeeringConnectionId", "pcx-00000000000000001")]
        ),
        "InvalidVpcPeeringConnectionID.NotFound"
    );
    assert_eq!(
        code(
            &store,
            "AcceptVpcPeeringConnection",
            &[("VpcPeeringConnectionId", "vpc-1")]
        ),
        "InvalidVpcPeeringConnectionId.Malformed"
    );
    run(
        &store,
        "RejectVpcPeeringConnection",
        &[("VpcPeeringConnectionId", &pcx)],
    )
    .unwrap();
    assert_eq!(
        code(
            &store,
            "AcceptVpcPeeringConnection",
            &[("VpcPeeringConnectionId", &pcx)]
        ),
        "InvalidStateTransition"
    );
    let x = run(
        &store,
        "DescribeVpcPeeringConnections",
        &[
            ("Filter.1.Name", "status-code"),
            ("Filter.1.Value.1", "rejected"),
        ],
    )
    .unwrap();
    assert!(x.contains(&pcx), "{x}");
    // A rejected connection carries no route.
    let rtb = between(
        &run(&store, "CreateRouteTable", &[("VpcId", &a)]).unwrap(),
        "routeTableId",
    );
    assert_eq!(
        code(
            &store,
            "CreateRoute",
            &[
                ("RouteTableId", &rtb),
                ("DestinationCidrBlock", "10.2.0.0/16"),
                ("VpcPeeringConnectionId", &pcx)
            ]
        ),
        "InvalidParameterValue"
    );
    // Overlap: created, but failed.
    let c = vpc(&store, "10.1.0.0/16");
    let x = run(
        &store,
        "CreateVpcPeeringConnection",
        &[("VpcId", &a), ("PeerVpcId", &c)],
    )
    .unwrap();
    assert!(x.contains("<code>failed</code>"), "{x}");
    let x = run(
        &store,
        "CreateVpcPeeringConnection",
        &[("VpcId", &a), ("PeerVpcId", &b), ("DryRun", "true")],
    );
    assert_eq!(x.unwrap_err().code, "DryRunOperation");
}

#[test]
fn transit_gateway_errors() {
    let store = Store::open(None).unwrap();
    let a = vpc(&store, "10.1.0.0/16");
    let s1 = subnet(&store, &a, "10.1.1.0/24", "us-east-1a");
    let s2 = subnet(&store, &a, "10.1.2.0/24", "us-east-1a");
    let x = run(
        &store,
        "CreateTransitGateway",
        &[("Options.AmazonSideAsn", "64999")],
    )
    .unwrap();
    let tgw = between(&x, "transitGatewayId");
    assert!(x.contains("<state>pending</state>"), "{x}");
    assert_eq!(
        code(
            &store,
            "CreateTransitGateway",
            &[("Options.AmazonSideAsn", "65535")]
        ),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(
            &store,
            "CreateTransitGatewayVpcAttachment",
            &[
                ("TransitGatewayId", &tgw),
                ("VpcId", &a),
                ("SubnetIds.1", &s1)
            ]
        ),
        "IncorrectState"
    );
    // No delay in the store's meta: the default delay applies, so make it due now.
    store
        .write(|tx| tx.put_meta(super::ASYNC_DELAY_KEY, "0"))
        .unwrap();
    let x = run(
        &store,
        "DescribeTransitGateways",
        &[("TransitGatewayIds.1", &tgw)],
    )
    .unwrap();
    assert!(x.contains("<state>available</state>"), "{x}");
    assert_eq!(
        code(
            &store,
            "CreateTransitGatewayVpcAttachment",
            &[
                ("TransitGatewayId", &tgw),
                ("VpcId", &a),
                ("SubnetIds.1", &s1),
                ("SubnetIds.2", &s2)
            ]
        ),
        "DuplicateSubnetsInSameZone"
    );
    let x = run(
        &store,
        "CreateTransitGatewayVpcAttachment",
        &[
            ("TransitGatewayId", &tgw),
            ("VpcId", &a),
            ("SubnetIds.1", &s1),
        ],
    )
    .unwrap();
    let att = between(&x, "transitGatewayAttachmentId");
    assert_eq!(
        code(
            &store,
            "CreateTransitGatewayVpcAttachment",
            &[
                ("TransitGatewayId", &tgw),
                ("VpcId", &a),
                ("SubnetIds.1", &s1)
            ]
        ),
        "DuplicateTransitGatewayAttachment"
    );
    let x = run(&store, "DescribeTransitGateways", &[]).unwrap();
    let table = between(&x, "associationDefaultRouteTableId");
    assert_eq!(
        code(
            &store,
            "EnableTransitGatewayRouteTablePropagation",
            &[
                ("TransitGatewayRouteTableId", &table),
                ("TransitGatewayAttachmentId", &att)
            ]
        ),
        "TransitGatewayRouteTablePropagation.Duplicate"
    );
    assert_eq!(
        code(
            &store,
            "CreateTransitGatewayRoute",
            &[
                ("TransitGatewayRouteTableId", &table),
                ("DestinationCidrBlock", "10.9.0.0/16")
            ]
        ),
        "InvalidParameterCombination"
    );
    run(
        &store,
        "CreateTransitGatewayRoute",
        &[
            ("TransitGatewayRouteTableId", &table),
            ("DestinationCidrBlock", "10.9.0.0/16"),
            ("Blackhole", "true"),
        ],
    )
    .unwrap();
    assert_eq!(
        code(
            &store,
            "CreateTransitGatewayRoute",
            &[
                ("TransitGatewayRouteTableId", &table),
                ("DestinationCidrBlock", "10.9.0.0/16"),
                ("TransitGatewayAttachmentId", &att)
            ]
        ),
        "RouteAlreadyExists"
    );
    assert_eq!(
        code(
            &store,
            "DeleteTransitGatewayRoute",
            &[
                ("TransitGatewayRouteTableId", &table),
                ("DestinationCidrBlock", "10.8.0.0/16")
            ]
        ),
        "InvalidRoute.NotFound"
    );
    assert_eq!(
        code(
            &store,
            "SearchTransitGatewayRoutes",
            &[("TransitGatewayRouteTableId", &table)]
        ),
        "MissingParameter"
    );
    let x = run(
        &store,
        "SearchTransitGatewayRoutes",
        &[
            ("TransitGatewayRouteTableId", &table),
            ("Filter.1.Name", "type"),
            ("Filter.1.Value.1", "static"),
        ],
    )
    .unwrap();
    assert!(x.contains("<state>blackhole</state>"), "{x}");
    assert!(!x.contains("10.1.0.0/16"), "{x}");
    assert_eq!(
        code(
            &store,
            "DeleteTransitGatewayRouteTable",
            &[("TransitGatewayRouteTableId", &table)]
        ),
        "IncorrectState"
    );
    assert_eq!(
        code(
            &store,
            "DeleteTransitGateway",
            &[("TransitGatewayId", &tgw)]
        ),
        "IncorrectState"
    );
    assert_eq!(
        code(
            &store,
            "CreateRoute",
            &[
                (
                    "RouteTableId",
                    &between(
                        &run(&store, "CreateRouteTable", &[("VpcId", &a)]).unwrap(),
                        "routeTableId"
                    )
                ),
                ("DestinationCidrBlock", "0.0.0.0/0"),
                ("TransitGatewayId", "tgw-0000000000000000f")
            ]
        ),
        "InvalidTransitGatewayID.NotFound"
    );
    run(
        &store,
        "DeleteTransitGatewayVpcAttachment",
        &[("TransitGatewayAttachmentId", &att)],
    )
    .unwrap();
    run(
        &store,
        "DeleteTransitGateway",
        &[("TransitGatewayId", &tgw)],
    )
    .unwrap();
    assert_eq!(
        code(
            &store,
            "CreateTransitGatewayRouteTable",
            &[("TransitGatewayId", &tgw)]
        ),
        "InvalidTransitGatewayID.NotFound"
    );
}

#[test]
fn endpoint_and_prefix_list_errors() {
    let store = Store::open(None).unwrap();
    let a = vpc(&store, "10.1.0.0/16");
    let rtb = between(
        &run(&store, "CreateRouteTable", &[("VpcId", &a)]).unwrap(),
        "routeTableId",
    );
    assert_eq!(
        code(
            &store,
            "CreateVpcEndpoint",
            &[("VpcId", &a), ("ServiceName", "com.amazonaws.eu-west-1.s3")]
        ),
        "InvalidServiceName"
    );
    let x = run(
        &store,
        "CreateVpcEndpoint",
        &[
            ("VpcId", &a),
            ("ServiceName", "com.amazonaws.us-east-1.s3"),
            ("RouteTableId.1", &rtb),
        ],
    )
    .unwrap();
    let vpce = between(&x, "vpcEndpointId");
    assert!(
        x.contains(&format!(
            "<routeTableIdSet><item>{rtb}</item></routeTableIdSet>"
        )),
        "{x}"
    );
    let x = run(&store, "DescribeRouteTables", &[("RouteTableId.1", &rtb)]).unwrap();
    assert!(x.contains(&format!("<gatewayId>{vpce}</gatewayId>")), "{x}");
    assert_eq!(
        code(
            &store,
            "CreateVpcEndpoint",
            &[
                ("VpcId", &a),
                ("ServiceName", "com.amazonaws.us-east-1.s3"),
                ("RouteTableId.1", &rtb)
            ]
        ),
        "RouteAlreadyExists"
    );
    let x = run(
        &store,
        "DeleteVpcEndpoints",
        &[
            ("VpcEndpointId.1", &vpce),
            ("VpcEndpointId.2", "vpce-0000000000000000f"),
        ],
    )
    .unwrap();
    assert!(
        x.contains("<code>InvalidVpcEndpointId.NotFound</code>"),
        "{x}"
    );
    let x = run(&store, "DescribeRouteTables", &[("RouteTableId.1", &rtb)]).unwrap();
    assert!(!x.contains(&vpce), "{x}");

    assert_eq!(
        code(
            &store,
            "CreateManagedPrefixList",
            &[
                ("PrefixListName", "office"),
                ("AddressFamily", "IPv4"),
                ("MaxEntries", "1"),
                ("Entry.1.Cidr", "192.0.2.0/24"),
                ("Entry.2.Cidr", "198.51.100.0/24")
            ]
        ),
        "PrefixListMaxEntriesExceeded"
    );
    assert_eq!(
        code(
            &store,
            "CreateManagedPrefixList",
            &[
                ("PrefixListName", "office"),
                ("AddressFamily", "IPv4"),
                ("MaxEntries", "2"),
                ("Entry.1.Cidr", "2001:db8::/32")
            ]
        ),
        "InvalidParameterValue"
    );
    let x = run(
        &store,
        "CreateManagedPrefixList",
        &[
            ("PrefixListName", "office"),
            ("AddressFamily", "IPv4"),
            ("MaxEntries", "2"),
            ("Entry.1.Cidr", "192.0.2.0/24"),
        ],
    )
    .unwrap();
    let pl = between(&x, "prefixListId");
    assert_eq!(
        code(
            &store,
            "ModifyManagedPrefixList",
            &[
                ("PrefixListId", &pl),
                ("CurrentVersion", "7"),
                ("AddEntry.1.Cidr", "198.51.100.0/24")
            ]
        ),
        "PrefixListVersionMismatch"
    );
    let x = run(
        &store,
        "ModifyManagedPrefixList",
        &[
            ("PrefixListId", &pl),
            ("CurrentVersion", "1"),
            ("AddEntry.1.Cidr", "198.51.100.0/24"),
        ],
    )
    .unwrap();
    assert!(x.contains("<version>2</version>"), "{x}");
    let x = run(
        &store,
        "GetManagedPrefixListEntries",
        &[("PrefixListId", &pl)],
    )
    .unwrap();
    assert!(
        x.contains("198.51.100.0/24") && x.contains("192.0.2.0/24"),
        "{x}"
    );
    let s3 = between(
        &run(
            &store,
            "DescribePrefixLists",
            &[
                ("Filter.1.Name", "prefix-list-name"),
                ("Filter.1.Value.1", "com.amazonaws.us-east-1.s3"),
            ],
        )
        .unwrap(),
        "prefixListId",
    );
    assert_eq!(
        code(&store, "DeleteManagedPrefixList", &[("PrefixListId", &s3)]),
        "UnauthorizedOperation"
    );
    run(
        &store,
        "CreateRoute",
        &[
            ("RouteTableId", &rtb),
            ("DestinationPrefixListId", &pl),
            ("GatewayId", "igw-0000000000000000f"),
        ],
    )
    .unwrap_err();
    let igw = between(
        &run(&store, "CreateInternetGateway", &[]).unwrap(),
        "internetGatewayId",
    );
    run(
        &store,
        "AttachInternetGateway",
        &[("InternetGatewayId", &igw), ("VpcId", &a)],
    )
    .unwrap();
    run(
        &store,
        "CreateRoute",
        &[
            ("RouteTableId", &rtb),
            ("DestinationPrefixListId", &pl),
            ("GatewayId", &igw),
        ],
    )
    .unwrap();
    assert_eq!(
        code(&store, "DeleteManagedPrefixList", &[("PrefixListId", &pl)]),
        "DependencyViolation"
    );
    assert_eq!(
        code(
            &store,
            "CreateRoute",
            &[
                ("RouteTableId", &rtb),
                ("DestinationPrefixListId", "pl-0000000000000000f"),
                ("GatewayId", &igw)
            ]
        ),
        "InvalidPrefixListID.NotFound"
    );
}
