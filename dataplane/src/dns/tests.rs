//! Resolution order and routing policies on a hand-built view.

use super::*;

fn set(name: &str, routing: Routing, value: &str, hc: Option<usize>) -> RecordSet {
    RecordSet {
        res: ResId(10),
        name: name.into(),
        rtype: RecordType::A,
        set_identifier: Some(value.into()),
        routing,
        ttl: 60,
        value: RecordValue::Records(vec![RData::A(value.parse().unwrap())]),
        health_check: hc,
    }
}

fn view() -> DnsView {
    let vpc = VpcIdx(0);
    DnsView {
        vpcs: vec![VpcDns {
            support: true,
            hostnames: true,
            region: "us-east-1".into(),
        }],
        zones: vec![
            HostedZone {
                res: ResId(20),
                name: "corp.example".into(),
                private: true,
                vpcs: vec![vpc],
                records: vec![set("a.corp.example", Routing::Simple, "10.0.0.1", None)],
            },
            HostedZone {
                res: ResId(21),
                name: "sub.corp.example".into(),
                private: true,
                vpcs: vec![vpc],
                records: vec![set("x.sub.corp.example", Routing::Simple, "10.0.0.2", None)],
            },
            HostedZone {
                res: ResId(22),
                name: "pub.example".into(),
                private: false,
                vpcs: vec![],
                records: vec![set("w.pub.example", Routing::Simple, "198.51.100.1", None)],
            },
        ],
        rules: vec![ResolverRule {
            res: ResId(30),
            domain: "corp.example".into(),
            kind: RuleKind::Forward {
                targets: vec![("192.168.0.2".parse().unwrap(), 53)],
                endpoint: Some(0),
            },
            vpcs: vec![vpc],
        }],
        health_checks: vec![HealthCheck {
            res: ResId(40),
            healthy: false,
        }],
        ..DnsView::default()
    }
}

fn ask(v: &DnsView, name: &str, reached: bool) -> Resolution {
    v.resolve(
        Query {
            vpc: VpcIdx(0),
            name,
            qtype: RecordType::A,
            salt: 1,
        },
        &mut |_| reached,
    )
}

#[test]
fn a_rule_beats_a_private_zone_of_the_same_name_a_more_specific_zone_beats_the_rule() {
    let v = view();
    let r = ask(&v, "a.corp.example", true);
    assert!(
        matches!(r.source, Source::Forward { reached: true, .. }),
        "{r:?}"
    );
    assert_eq!(ask(&v, "a.corp.example", false).rcode, Rcode::ServFail);
    let z = ask(&v, "x.sub.corp.example", true);
    assert!(
        matches!(
            z.source,
            Source::Zone {
                zone: ResId(21),
                ..
            }
        ),
        "{z:?}"
    );
    // A missing name in the most specific private zone is NXDOMAIN, not a fall-through.
    assert_eq!(ask(&v, "y.sub.corp.example", true).rcode, Rcode::NxDomain);
    let p = ask(&v, "w.pub.example", true);
    assert_eq!(p.answers[0].data, RData::A("198.51.100.1".parse().unwrap()));
}

#[test]
fn a_system_rule_answers_locally_under_a_forwarding_rule() {
    let mut v = view();
    v.rules.push(ResolverRule {
        res: ResId(31),
        domain: "a.corp.example".into(),
        kind: RuleKind::System,
        vpcs: vec![VpcIdx(0)],
    });
    let r = ask(&v, "a.corp.example", true);
    assert!(
        matches!(
            r.source,
            Source::Zone {
                zone: ResId(20),
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn failover_and_weighted_follow_health_and_last_resort() {
    let mut v = view();
    v.zones[0].records = vec![
        set(
            "f.corp.example",
            Routing::Failover(true),
            "10.0.0.1",
            Some(0),
        ),
        set("f.corp.example", Routing::Failover(false), "10.0.0.2", None),
        set(
            "w.corp.example",
            Routing::Weighted(100),
            "10.0.0.3",
            Some(0),
        ),
        set("w.corp.example", Routing::Weighted(0), "10.0.0.4", None),
        set(
            "all.corp.example",
            Routing::Weighted(5),
            "10.0.0.5",
            Some(0),
        ),
    ];
    v.rules.clear();
    let f = ask(&v, "f.corp.example", true);
    assert_eq!(f.answers[0].data, RData::A("10.0.0.2".parse().unwrap()));
    // The only non-zero weight is unhealthy: the zero-weight record answers.
    let w = ask(&v, "w.corp.example", true);
    assert_eq!(w.answers[0].data, RData::A("10.0.0.4".parse().unwrap()));
    // Every record unhealthy: answered as if all were healthy.
    let all = ask(&v, "all.corp.example", true);
    assert_eq!(all.answers.len(), 1);
}

#[test]
fn weighted_picks_follow_the_weights() {
    let mut v = view();
    v.rules.clear();
    v.zones[0].records = vec![
        set("w.corp.example", Routing::Weighted(3), "10.0.0.1", None),
        set("w.corp.example", Routing::Weighted(1), "10.0.0.2", None),
    ];
    let mut first = 0;
    for salt in 0..400 {
        let r = v.resolve(
            Query {
                vpc: VpcIdx(0),
                name: "w.corp.example",
                qtype: RecordType::A,
                salt,
            },
            &mut |_| true,
        );
        if r.answers[0].data == RData::A("10.0.0.1".parse().unwrap()) {
            first += 1;
        }
    }
    assert!(
        (240..=360).contains(&first),
        "{first} of 400 for weight 3 of 4"
    );
}
