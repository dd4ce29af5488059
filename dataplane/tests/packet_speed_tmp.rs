use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;
use vpcsim_dataplane::packet::*;

fn best<F: FnMut() -> u64>(mut f: F) -> f64 {
    let n = 10_000_000u64;
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let mut acc = 0u64;
        for _ in 0..n {
            acc = acc.wrapping_add(f());
        }
        black_box(acc);
        best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
    }
    best
}

#[test]
fn speed() {
    let spec = PacketSpec {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 5)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 80)),
        src_mac: [2, 0, 0, 0, 0, 1],
        dst_mac: [2, 0, 0, 0, 0, 2],
        ttl: 64,
        l4: L4Spec::Tcp {
            src_port: 40000,
            dst_port: 443,
            seq: 1,
            ack: 2,
            flags: 0x10,
            window: 100,
        },
        payload_len: 10,
    };
    let mut frame = Vec::new();
    build(&spec, &mut frame);
    assert_eq!(frame.len(), 64);
    let base = best(|| black_box(&frame).iter().map(|&b| u64::from(b)).sum::<u64>());
    let p = best(|| {
        u64::from(
            parse(LinkType::Ethernet, black_box(&frame))
                .unwrap()
                .dst_port,
        )
    });
    let meta = parse(LinkType::Ethernet, &frame).unwrap();
    let new = Rewrite {
        src: IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1)),
        dst: meta.dst,
        src_port: 61000,
        dst_port: 443,
        ttl: 63,
    };
    let mut f = frame.clone();
    let r = best(|| {
        rewrite(black_box(&mut f), black_box(&meta), black_box(&new));
        0
    });
    println!(
        "baseline sum 64 bytes: {base:.2} ns; parse: {p:.2} ns/packet; rewrite: {r:.2} ns/packet"
    );
}
