//! Route 53 through `handle`, with REST requests as botocore sends them.

use std::time::Duration;

use super::*;
use crate::params::Params;
use crate::services::test_support::{botocore_parse_as, query_call, t0, xml_of, xml_to_json};

const NS: &str = "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"";

fn rest(
    store: &Store,
    method: &str,
    path: &str,
    body: &str,
    query: &[(&str, &str)],
) -> Result<Reply, ApiError> {
    rest_at(store, method, path, body, query, t0())
}

fn rest_at(
    store: &Store,
    method: &str,
    path: &str,
    body: &str,
    query: &[(&str, &str)],
    now: SystemTime,
) -> Result<Reply, ApiError> {
    let mut c = query_call(
        Service::Route53,
        route(method, path).map_or("?", |r| r.0),
        &[],
        now,
    );
    c.method = method.into();
    c.path = path.into();
    c.body = body.as_bytes().to_vec();
    c.params = Params::from_pairs(query.iter().copied());
    c.region = "us-east-1".into();
    let r = handle(store, &c)?;
    assert!(c.was_authorized());
    Ok(r)
}

fn create_zone(
    store: &Store,
    name: &str,
    caller: &str,
    vpc: Option<&str>,
) -> Result<(String, Value), ApiError> {
    let vpc = vpc
        .map(|v| format!("<VPC><VPCRegion>us-east-1</VPCRegion><VPCId>{v}</VPCId></VPC>"))
        .unwrap_or_default();
    let body = format!("<CreateHostedZoneRequest {NS}><Name>{name}</Name>{vpc}<CallerReference>{caller}</CallerReference><HostedZoneConfig><Comment>test</Comment></HostedZoneConfig></CreateHostedZoneRequest>");
    let r = rest(store, "POST", "/2013-04-01/hostedzone", &body, &[])?;
    assert!(matches!(r, Reply::XmlStatus(201, _)));
    let v = xml_to_json(xml_of(&r));
    let id = v["CreateHostedZoneResponse"]["HostedZone"]["Id"]
        .as_str()
        .unwrap()
        .trim_start_matches("/hostedzone/")
        .to_string();
    assert_eq!(
        location(&r).unwrap(),
        format!("https://route53.amazonaws.com/2013-04-01/hostedzone/{id}")
    );
    Ok((id, v))
}

fn change(
    store: &Store,
    zone: &str,
    changes: &[(&str, &str, &str, &[&str])],
) -> Result<Reply, ApiError> {
    let mut xml = String::new();
    for (action, name, rtype, values) in changes {
        let rr: String = values
            .iter()
            .map(|v| format!("<ResourceRecord><Value>{v}</Value></ResourceRecord>"))
            .collect();
        xml.push_str(&format!("<Change><Action>{action}</Action><ResourceRecordSet><Name>{name}</Name><Type>{rtype}</Type><TTL>300</TTL><ResourceRecords>{rr}</ResourceRecords></ResourceRecordSet></Change>"));
    }
    let body = format!("<ChangeResourceRecordSetsRequest {NS}><ChangeBatch><Changes>{xml}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    rest(
        store,
        "POST",
        &format!("/2013-04-01/hostedzone/{zone}/rrset/"),
        &body,
        &[],
    )
}

fn names(store: &Store, zone: &str, query: &[(&str, &str)]) -> (Vec<String>, Value) {
    let r = rest(
        store,
        "GET",
        &format!("/2013-04-01/hostedzone/{zone}/rrset"),
        "",
        query,
    )
    .unwrap();
    let v = xml_to_json(xml_of(&r))["ListResourceRecordSetsResponse"].clone();
    // Each record set's name and type, in answer order, read with quick-xml.
    let mut reader = quick_xml::Reader::from_str(xml_of(&r));
    let (mut found, mut path, mut current) = (Vec::new(), Vec::<String>::new(), String::new());
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned())
            }
            quick_xml::events::Event::End(_)
                if path.last().map(String::as_str) == Some("ResourceRecordSet") =>
            {
                path.pop();
                found.push(std::mem::take(&mut current).trim().to_string());
            }
            quick_xml::events::Event::End(_) => {
                path.pop();
            }
            quick_xml::events::Event::Text(t)
                if path.len() == 4 && matches!(path[3].as_str(), "Name" | "Type") =>
            {
                current.push_str(&t.unescape().unwrap());
                current.push(' ');
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    (found, v)
}

#[test]
fn public_zone_gets_soa_and_ns_and_lists_in_route53_order() {
    let s = Store::open(None).unwrap();
    let (id, v) = create_zone(&s, "Example.com", "ref-1", None).unwrap();
    let z = &v["CreateHostedZoneResponse"];
    assert_eq!(z["HostedZone"]["Name"], "example.com.");
    assert_eq!(z["HostedZone"]["ResourceRecordSetCount"], "2");
    assert_eq!(z["HostedZone"]["Config"]["PrivateZone"], "false");
    assert_eq!(z["ChangeInfo"]["Status"], "PENDING");
    assert!(z["DelegationSet"]["NameServers"].is_object());
    assert_eq!(
        create_zone(&s, "other.com", "ref-1", None)
            .unwrap_err()
            .code,
        "HostedZoneAlreadyExists"
    );
    assert_eq!(
        create_zone(&s, "bad..name", "ref-2", None)
            .unwrap_err()
            .code,
        "InvalidDomainName"
    );
    change(
        &s,
        &id,
        &[
            ("CREATE", "www.example.com", "A", &["192.0.2.1"]),
            ("CREATE", "a.example.com", "A", &["192.0.2.2"]),
            ("CREATE", "example.com", "MX", &["10 mail.example.com"]),
            ("CREATE", "z.a.example.com", "TXT", &["\"hi\""]),
        ],
    )
    .unwrap();
    let (found, v) = names(&s, &id, &[]);
    assert_eq!(
        found,
        [
            "example.com. MX",
            "example.com. NS",
            "example.com. SOA",
            "a.example.com. A",
            "z.a.example.com. TXT",
            "www.example.com. A"
        ]
    );
    assert_eq!(v["IsTruncated"], "false");
    let (found, v) = names(&s, &id, &[("maxitems", "2"), ("name", "a.example.com")]);
    assert_eq!(found, ["a.example.com. A", "z.a.example.com. TXT"]);
    assert_eq!(v["NextRecordName"], "www.example.com.");
    assert_eq!(v["NextRecordType"], "A");
    assert_eq!(
        rest(
            &s,
            "GET",
            &format!("/2013-04-01/hostedzone/{id}/rrset"),
            "",
            &[("type", "A")]
        )
        .unwrap_err()
        .code,
        "InvalidInput"
    );
    let g = rest(&s, "GET", &format!("/2013-04-01/hostedzone/{id}"), "", &[]).unwrap();
    assert_eq!(
        xml_to_json(xml_of(&g))["GetHostedZoneResponse"]["HostedZone"]["ResourceRecordSetCount"],
        "6"
    );
    assert_eq!(
        rest(
            &s,
            "DELETE",
            &format!("/2013-04-01/hostedzone/{id}"),
            "",
            &[]
        )
        .unwrap_err()
        .code,
        "HostedZoneNotEmpty"
    );
    change(
        &s,
        &id,
        &[
            ("DELETE", "www.example.com", "A", &["192.0.2.1"]),
            ("DELETE", "a.example.com", "A", &["192.0.2.2"]),
            ("DELETE", "example.com", "MX", &["10 mail.example.com"]),
            ("DELETE", "z.a.example.com", "TXT", &["\"hi\""]),
        ],
    )
    .unwrap();
    rest(
        &s,
        "DELETE",
        &format!("/2013-04-01/hostedzone/{id}"),
        "",
        &[],
    )
    .unwrap();
    let e = rest(&s, "GET", &format!("/2013-04-01/hostedzone/{id}"), "", &[]).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("NoSuchHostedZone", 404));
}

#[test]
fn change_batches_are_atomic_and_worded_as_aws() {
    let s = Store::open(None).unwrap();
    let (id, _) = create_zone(&s, "example.com", "r", None).unwrap();
    change(
        &s,
        &id,
        &[("CREATE", "www.example.com", "A", &["192.0.2.1"])],
    )
    .unwrap();
    let e = change(
        &s,
        &id,
        &[
            ("CREATE", "new.example.com", "A", &["192.0.2.9"]),
            ("CREATE", "www.example.com", "A", &["192.0.2.1"]),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidChangeBatch");
    assert_eq!(e.message, "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]");
    let (found, _) = names(&s, &id, &[]);
    assert!(
        !found.iter().any(|n| n.starts_with("new.")),
        "nothing of a refused batch is applied"
    );
    let e = change(
        &s,
        &id,
        &[("DELETE", "www.example.com", "A", &["192.0.2.7"])],
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("but the values provided do not match the current values"),
        "{}",
        e.message
    );
    let e = change(
        &s,
        &id,
        &[("DELETE", "gone.example.com", "A", &["192.0.2.7"])],
    )
    .unwrap_err();
    assert!(e.message.contains("but it was not found"));
    let e = change(&s, &id, &[("CREATE", "www.other.com", "A", &["192.0.2.7"])]).unwrap_err();
    assert_eq!(
        e.message,
        "[RRSet with DNS name www.other.com. is not permitted in zone example.com.]"
    );
    let e = change(
        &s,
        &id,
        &[("CREATE", "www.example.com", "CNAME", &["web.example.com"])],
    )
    .unwrap_err();
    assert!(
        e.message.contains("conflicting RRSet of type A"),
        "{}",
        e.message
    );
    let e = change(
        &s,
        &id,
        &[("CREATE", "example.com", "CNAME", &["web.example.com"])],
    )
    .unwrap_err();
    assert!(
        e.message.contains("is not permitted at apex"),
        "{}",
        e.message
    );
    let e = change(&s, &id, &[("CREATE", "x.example.com", "A", &["not-an-ip"])]).unwrap_err();
    assert!(
        e.message.contains("ARRDATAIllegalIPv4Address"),
        "{}",
        e.message
    );
    let e = change(&s, &id, &[("UPSERT", "x.example.com", "BOGUS", &["1"])]).unwrap_err();
    assert_eq!(e.code, "InvalidInput");
    // UPSERT replaces.
    change(
        &s,
        &id,
        &[(
            "UPSERT",
            "www.example.com",
            "A",
            &["192.0.2.3", "192.0.2.4"],
        )],
    )
    .unwrap();
    change(
        &s,
        &id,
        &[(
            "DELETE",
            "www.example.com",
            "A",
            &["192.0.2.3", "192.0.2.4"],
        )],
    )
    .unwrap();
    // A change is PENDING, then INSYNC.
    let r = change(
        &s,
        &id,
        &[("CREATE", "v.example.com", "AAAA", &["2001:db8::1"])],
    )
    .unwrap();
    let cid = xml_to_json(xml_of(&r))["ChangeResourceRecordSetsResponse"]["ChangeInfo"]["Id"]
        .as_str()
        .unwrap()
        .trim_start_matches("/change/")
        .to_string();
    let later = rest_at(
        &s,
        "GET",
        &format!("/2013-04-01/change/{cid}"),
        "",
        &[],
        t0() + Duration::from_secs(2),
    )
    .unwrap();
    assert_eq!(
        xml_to_json(xml_of(&later))["GetChangeResponse"]["ChangeInfo"]["Status"],
        "INSYNC"
    );
    assert_eq!(
        rest(&s, "GET", "/2013-04-01/change/CNOPE", "", &[])
            .unwrap_err()
            .code,
        "NoSuchChange"
    );
}

#[test]
fn private_zones_need_a_known_vpc_and_mark_its_region_changed() {
    let s = Store::open(None).unwrap();
    s.write(|tx| tx.put("us-east-1", "Vpcs", "vpc-1", &json!({"VpcId": "vpc-1"})))
        .unwrap();
    let (id, v) = create_zone(&s, "corp.internal", "p1", Some("vpc-1")).unwrap();
    assert_eq!(
        v["CreateHostedZoneResponse"]["HostedZone"]["Config"]["PrivateZone"],
        "true"
    );
    assert_eq!(v["CreateHostedZoneResponse"]["VPC"]["VPCId"], "vpc-1");
    assert_eq!(
        create_zone(&s, "corp.internal", "p2", Some("vpc-1"))
            .unwrap_err()
            .code,
        "ConflictingDomainExists"
    );
    assert_eq!(
        create_zone(&s, "x.internal", "p3", Some("vpc-404"))
            .unwrap_err()
            .code,
        "InvalidVPCId"
    );
    let stored = s.read(|tx| tx.get(GLOBAL, ZONES, &id)).unwrap().unwrap();
    assert_eq!(stored["VPCs"][0]["VPCRegion"], "us-east-1");
    // A second VPC, then back to one; the last cannot go.
    s.write(|tx| tx.put("eu-west-1", "Vpcs", "vpc-2", &json!({"VpcId": "vpc-2"})))
        .unwrap();
    let vpc = |v: &str, r: &str| {
        format!("<AssociateVPCWithHostedZoneRequest {NS}><VPC><VPCRegion>{r}</VPCRegion><VPCId>{v}</VPCId></VPC></AssociateVPCWithHostedZoneRequest>")
    };
    let assoc = |op: &str, v: &str, r: &str| {
        rest(
            &s,
            "POST",
            &format!("/2013-04-01/hostedzone/{id}/{op}"),
            &vpc(v, r),
            &[],
        )
    };
    assoc("associatevpc", "vpc-2", "eu-west-1").unwrap();
    assert_eq!(
        assoc("associatevpc", "vpc-2", "eu-west-1")
            .unwrap_err()
            .code,
        "InvalidInput"
    );
    assert_eq!(
        assoc("associatevpc", "vpc-9", "eu-west-1")
            .unwrap_err()
            .code,
        "InvalidVPCId"
    );
    let stored = s.read(|tx| tx.get(GLOBAL, ZONES, &id)).unwrap().unwrap();
    assert_eq!(stored["VPCs"].as_array().unwrap().len(), 2);
    assoc("disassociatevpc", "vpc-1", "us-east-1").unwrap();
    assert_eq!(
        assoc("disassociatevpc", "vpc-1", "us-east-1")
            .unwrap_err()
            .code,
        "VPCAssociationNotFound"
    );
    assert_eq!(
        assoc("disassociatevpc", "vpc-2", "eu-west-1")
            .unwrap_err()
            .code,
        "LastVPCAssociation"
    );
    let (public, _) = create_zone(&s, "public.example", "p4", None).unwrap();
    let e = rest(
        &s,
        "POST",
        &format!("/2013-04-01/hostedzone/{public}/associatevpc"),
        &vpc("vpc-1", "us-east-1"),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.code, "PublicZoneVPCAssociation");
    let l = rest(
        &s,
        "GET",
        "/2013-04-01/hostedzone",
        "",
        &[("maxitems", "1")],
    )
    .unwrap();
    assert_eq!(
        xml_to_json(xml_of(&l))["ListHostedZonesResponse"]["IsTruncated"],
        "true"
    );
}

#[test]
fn answers_parse_with_botocore() {
    let s = Store::open(None).unwrap();
    let (id, _) = create_zone(&s, "example.com", "b1", None).unwrap();
    create_zone(&s, "example.org", "b2", None).unwrap();
    change(
        &s,
        &id,
        &[(
            "CREATE",
            "www.example.com",
            "A",
            &["192.0.2.1", "192.0.2.2"],
        )],
    )
    .unwrap();
    for (op, method, path, query) in [
        (
            "ListResourceRecordSets",
            "GET",
            format!("/2013-04-01/hostedzone/{id}/rrset"),
            vec![],
        ),
        (
            "ListHostedZones",
            "GET",
            "/2013-04-01/hostedzone".to_string(),
            vec![("maxitems", "1")],
        ),
        (
            "GetHostedZone",
            "GET",
            format!("/2013-04-01/hostedzone/{id}"),
            vec![],
        ),
    ] {
        let r = rest(&s, method, &path, "", &query).unwrap();
        let Some(p) = botocore_parse_as("rest-xml", "route53", op, 200, xml_of(&r)) else {
            return;
        };
        match op {
            "ListResourceRecordSets" => {
                let sets = p["ResourceRecordSets"].as_array().unwrap();
                assert_eq!(sets.len(), 3);
                assert_eq!(sets[2]["ResourceRecords"].as_array().unwrap().len(), 2);
                assert_eq!(sets[2]["TTL"], 300);
            }
            "ListHostedZones" => {
                assert_eq!(p["HostedZones"].as_array().unwrap().len(), 1);
                assert_eq!(p["IsTruncated"], true);
            }
            _ => assert_eq!(
                p["DelegationSet"]["NameServers"].as_array().unwrap().len(),
                4
            ),
        }
    }
}
