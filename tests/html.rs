//! The HTML pages: `vpcsim trace --html FILE` and `vpcsim report --out DIR`.
//!
//! The real binary writes the pages for the bundled example; the files are checked as text (every
//! hop drawn and placed on the right box, verdicts, self-contained, deterministic, escaped), then,
//! when Debian's `chromium` is installed (`.ci/run` installs it), loaded in headless Chromium: the
//! DOM after the page's script ran must still hold every hop and show the hop the URL selects, and
//! a screenshot must come out. Screenshots stay in `target/tmp/html/` for a look.

mod common;

use common::{example, trace, vpcsim};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FLOW: &str = "tcp 10.0.2.30:40000 -> 198.51.100.7:443";
const DROPPED_FLOW: &str = "tcp 192.0.2.9:50000 -> 198.18.0.1:22";

/// A fresh directory under `target/tmp/html/`, kept after the test so screenshots can be viewed.
fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("html")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create output dir");
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ex() -> String {
    example().display().to_string()
}

fn hops(v: &Value) -> Vec<Value> {
    v["hops"].as_array().expect("hops").clone()
}

fn hop_index(hops: &[Value], stage: &str, resource: &str) -> usize {
    hops.iter()
        .position(|h| h["stage"] == stage && h["resource"] == resource)
        .unwrap_or_else(|| panic!("no {stage} hop at {resource}: {hops:?}"))
}

/// The page fetches nothing: no external scripts, styles, images or fonts. The only URL is the
/// SVG namespace, which is a name, never fetched.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in ["<link", "@import", " src=", "href=\"http", "href=\"//"] {
        assert!(!lower.contains(bad), "page references {bad:?}");
    }
    // `url(#arrow-forward)` names a marker of the page itself.
    assert_eq!(
        lower.matches("url(").count(),
        lower.matches("url(#").count(),
        "url() outside the page"
    );
    let urls = lower.matches("http").count();
    let ns = lower
        .matches("xmlns=\"http://www.w3.org/2000/svg\"")
        .count();
    assert_eq!(urls, ns, "only the SVG namespace may look like a URL");
}

/// The hop badge of `path` number `i`, as written: `data-node` says which box it is drawn on.
fn badge(path: &str, i: usize) -> String {
    format!(r#"data-path="{path}" data-hop-index="{i}" data-node="#)
}

fn node_of(html: &str, path: &str, i: usize) -> String {
    let key = badge(path, i);
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no badge for {path} hop {i}"));
    let rest = &html[at + key.len() + 1..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// Run headless Chromium on a local file without network access or a shared profile; returns
/// stdout. Killed after two minutes so a wedged browser fails the test instead of hanging it.
fn run_chromium(bin: &Path, extra: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    // Read stdout on a thread: a DOM larger than the pipe buffer would block the browser.
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait chromium") {
            break st;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = reader.join().expect("reader");
    assert!(status.success(), "chromium failed ({status}) on {url}");
    stdout
}

fn file_url(p: &Path) -> String {
    format!(
        "file://{}",
        p.canonicalize().expect("canonical path").display()
    )
}

/// The DOM after the page's script ran.
fn dump_dom(bin: &Path, page: &Path, fragment: &str) -> String {
    run_chromium(
        bin,
        &["--dump-dom".into()],
        &format!("{}{fragment}", file_url(page)),
    )
}

/// A 1400×900 screenshot: a PNG of that size, large enough to hold more than a blank page.
fn screenshot(bin: &Path, page: &Path, png: &Path) {
    run_chromium(
        bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,900".into(),
        ],
        &file_url(page),
    );
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let be32 = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
    assert_eq!((be32(16), be32(20)), (1400, 900), "IHDR size");
    // A blank 1400×900 page compresses to a few kilobytes; boxes, text and paths do not.
    assert!(
        bytes.len() > 40_000,
        "{} is only {} bytes: nothing drawn?",
        png.display(),
        bytes.len()
    );
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn trace_html_draws_every_hop_on_the_map() {
    let json = trace(&example(), FLOW, &["--return"]);
    let fwd = hops(&json);
    let ret = hops(&json["return"]);
    let dir = out_dir("trace");
    let page = dir.join("trace.html");
    let o = vpcsim([
        "trace",
        "-t",
        &ex(),
        FLOW,
        "--return",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // The table still goes to stdout.
    assert!(
        o.stdout.contains("EXITED via InternetGateway"),
        "{}",
        o.stdout
    );
    let html = read(&page);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&html);

    // Every resource of the example is a box with a stable id.
    for id in [
        "internet",
        "Vpc",
        "InternetGateway",
        "PublicSubnetA",
        "PublicSubnetB",
        "PrivateSubnetA",
        "PrivateSubnetB",
        "WebInstance",
        "AppInstanceA",
        "AppInstanceB",
        "NatGateway",
    ] {
        assert!(
            html.contains(&format!(r#"id="res-{id}""#)),
            "no box for {id}"
        );
    }
    assert!(html.contains("us-east-1a") && html.contains("10.0.2.0/24"));

    // One badge and one detail per hop, no more.
    for (path, hs) in [("forward", &fwd), ("return", &ret)] {
        for (i, h) in hs.iter().enumerate() {
            assert!(html.contains(&badge(path, i)), "{path} hop {i} not drawn");
            let detail = format!(r#"<template id="detail-{path}-{i}">"#);
            let at = html.find(&detail).expect("detail template");
            let body = &html[at..at + html[at..].find("</template>").unwrap()];
            assert!(body.contains(h["stage"].as_str().unwrap()), "{body}");
            assert!(body.contains(h["detail"].as_str().unwrap()), "{body}");
            if let Some(rule) = h["rule"].as_str() {
                assert!(body.contains(rule), "{body}");
            }
        }
        assert!(!html.contains(&badge(path, hs.len())), "{path}: extra hop");
    }

    // Hops sit where they happen: rules on the subnet or instance they apply to.
    let at = |path: &str, hs: &[Value], stage: &str, res: &str| {
        node_of(&html, path, hop_index(hs, stage, res))
    };
    assert_eq!(
        at("forward", &fwd, "origin", "AppInstanceA"),
        "res-AppInstanceA"
    );
    assert_eq!(
        at("forward", &fwd, "sg-egress", "AppSg"),
        "res-AppInstanceA"
    );
    assert_eq!(
        at("forward", &fwd, "route", "PrivateRouteTable"),
        "res-PrivateSubnetA"
    );
    assert_eq!(
        at("forward", &fwd, "nacl-egress", "PrivateNacl"),
        "res-PrivateSubnetA"
    );
    assert_eq!(
        at("forward", &fwd, "nacl-ingress", "PublicNacl"),
        "res-PublicSubnetA"
    );
    assert_eq!(
        at("forward", &fwd, "nat-gateway", "NatGateway"),
        "res-NatGateway"
    );
    assert_eq!(
        at("forward", &fwd, "exit", "InternetGateway"),
        "res-InternetGateway"
    );
    assert_eq!(at("return", &ret, "origin", "internet"), "res-internet");
    assert_eq!(
        at("return", &ret, "nacl-ingress", "PrivateNacl"),
        "res-PrivateSubnetA"
    );
    assert_eq!(
        at("return", &ret, "deliver", "AppInstanceA"),
        "res-AppInstanceA"
    );

    // Both verdicts, prominently.
    assert!(
        html.contains(r#"id="verdict-forward""#) && html.contains("EXITED via InternetGateway")
    );
    assert!(html.contains(r#"id="verdict-return""#) && html.contains("DELIVERED to AppInstanceA"));

    // Same input, same bytes.
    let again = dir.join("again.html");
    let o = vpcsim([
        "trace",
        "-t",
        &ex(),
        FLOW,
        "--return",
        "--html",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0);
    assert!(read(&again) == html, "two runs wrote different pages");

    let Some(bin) = chromium() else {
        eprintln!(
            "note: chromium not installed; skipping the browser checks (.ci/run installs it)"
        );
        return;
    };
    // `#forward-N` selects hop N: the script must have run, found the hop and filled the panel.
    let nat = hop_index(&fwd, "nat-gateway", "NatGateway");
    let dom = dump_dom(&bin, &page, &format!("#forward-{nat}"));
    for (path, hs) in [("forward", &fwd), ("return", &ret)] {
        let drawn = dom
            .matches(&format!(r#"data-path="{path}" data-hop-index=""#))
            .count();
        // Badge + table row per hop, plus a line into every hop whose badge is not next to
        // the previous one.
        assert!(
            drawn >= 2 * hs.len(),
            "{path}: {drawn} elements for {} hops",
            hs.len()
        );
        for i in 0..hs.len() {
            assert!(
                dom.contains(&badge(path, i)),
                "{path} hop {i} missing after load"
            );
        }
    }
    assert!(
        dom.contains(&format!(
            r#"class="hop hop-badge forward selected" data-path="forward" data-hop-index="{nat}""#
        )),
        "the hop from the URL is selected"
    );
    assert!(dom.contains(r#"class="res nat selected" id="res-NatGateway""#));
    let panel = &dom[dom.find(r#"id="panel-body""#).expect("panel")..];
    let panel = &panel[..panel.find("</aside>").expect("panel end")];
    assert!(
        panel.contains(&format!("forward hop {} of {}", nat + 1, fwd.len())),
        "{panel}"
    );
    assert!(
        panel.contains(fwd[nat]["detail"].as_str().unwrap()),
        "{panel}"
    );
    assert!(
        dom.contains("EXITED via InternetGateway") && dom.contains("DELIVERED to AppInstanceA")
    );
    screenshot(&bin, &page, &dir.join("trace.png"));
}

#[test]
fn trace_html_shows_the_drop_and_no_return() {
    let dir = out_dir("drop");
    let page = dir.join("drop.html");
    let o = vpcsim([
        "trace",
        "-t",
        &ex(),
        DROPPED_FLOW,
        "--return",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let html = read(&page);
    assert!(html.contains(r#"<div class="verdict dropped" id="verdict-forward">"#));
    assert!(html.contains("DROPPED at PublicNacl: NACL_INGRESS_DENIED"));
    assert!(html.contains("none: the request was dropped"));
    // The denying hop is drawn red, at the subnet whose ACL denied it.
    assert!(html.contains(r#"class="hop hop-badge forward bad last" data-path="forward" data-hop-index="2" data-node="res-PublicSubnetA""#));
    assert!(!html.contains(r#"data-path="return""#));
    // A page cannot be written: exit 2 and say where.
    let o = vpcsim([
        "trace",
        "-t",
        &ex(),
        DROPPED_FLOW,
        "--html",
        dir.join("missing/dir/x.html").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("missing/dir/x.html"), "{}", o.stderr);
}

/// A flow page's reply starts where `trace --return` starts it: on-premises for a request that
/// left through a VPN, at the host for one a link-local service answered.
#[test]
fn report_flow_replies_start_where_trace_starts_them() {
    let dir = out_dir("report-replies");
    let vpn = example().with_file_name("vpn.yaml");
    let o = vpcsim([
        "report",
        "-t",
        vpn.to_str().unwrap(),
        "--out",
        dir.join("vpn").to_str().unwrap(),
        "--flow",
        "tcp 10.0.1.10:40000 -> 192.168.5.5:443",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let index = read(&dir.join("vpn/index.html"));
    assert!(
        index.contains("EXITED via Vgw") && index.contains("reply DELIVERED to App"),
        "{index}"
    );
    let o = vpcsim([
        "report",
        "-t",
        &example().display().to_string(),
        "--out",
        dir.join("dns").to_str().unwrap(),
        "--flow",
        "udp 10.0.2.30:45000 -> 10.0.0.2:53",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let page = read(&dir.join("dns/flow-1.html"));
    assert!(
        page.contains("answered on the host by AmazonProvidedDNS; not filtered")
            && !page.contains("NOT_MAPPED"),
        "{page}"
    );
}

#[test]
fn report_writes_index_and_flow_pages() {
    let dir = out_dir("report");
    let out = dir.join("site");
    let args = |out: &Path| {
        vec![
            "report".to_string(),
            "-t".into(),
            ex(),
            "--out".into(),
            out.display().to_string(),
            "--flow".into(),
            FLOW.into(),
            "--flow".into(),
            DROPPED_FLOW.into(),
        ]
    };
    let o = vpcsim(args(&out));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("2 flow pages"), "{}", o.stdout);
    let index = read(&out.join("index.html"));
    assert_self_contained(&index);
    // The map, without paths.
    assert!(index.contains(r#"id="res-AppInstanceB""#) && !index.contains("data-hop-index="));
    // Flows link to their pages, with their verdicts.
    assert!(index.contains(r#"<a href="flow-1.html">"#));
    assert!(index.contains(r#"<a href="flow-2.html">"#));
    assert!(index.contains("reply DELIVERED to AppInstanceA"));
    assert!(index.contains("DROPPED at PublicNacl: NACL_INGRESS_DENIED"));
    let flow1 = read(&out.join("flow-1.html"));
    assert!(flow1.contains(r#"href="index.html""#));
    assert!(flow1.contains(&badge("return", 0)) && flow1.contains("EXITED via InternetGateway"));
    let flow2 = read(&out.join("flow-2.html"));
    assert!(
        flow2.contains("NACL_INGRESS_DENIED") && flow2.contains("none: the request was dropped")
    );
    // Reachability: the app port the web tier may open to the app tier, SSH from the admin range
    // (a source inside that range), and a pair in each direction for every instance.
    let row = |from: &str, to: &str| {
        let key = format!("<tr><td><b>{from}</b></td><td><b>{to}</b></td><td>");
        let at = index
            .find(&key)
            .unwrap_or_else(|| panic!("no row {from} → {to}"));
        let rest = &index[at..];
        rest[..rest.find("</tr>").unwrap()].to_string()
    };
    assert!(row("WebInstance", "AppInstanceA").contains("tcp 8080 ✓"));
    assert!(row("AppInstanceA", "AppInstanceB").contains("tcp 8080 ✓"));
    let ssh = row("internet", "WebInstance");
    assert!(
        ssh.contains("tcp 22 ✓") && ssh.contains("tcp 203.0.113.1:40000 -&gt; 198.18.0.3:22"),
        "{ssh}"
    );
    assert!(row("AppInstanceA", "internet").contains("udp 53 ✓"));
    for a in ["WebInstance", "AppInstanceA", "AppInstanceB"] {
        for b in ["WebInstance", "AppInstanceA", "AppInstanceB"] {
            if a != b {
                row(a, b);
            }
        }
    }
    // Resources with their CIDRs, addresses and routes.
    for s in [
        "10.0.1.0/24</code> in Vpc (us-east-1a)",
        "10.0.2.30</code> in PrivateSubnetA; security groups AppSg, AppSg2",
        "0.0.0.0/0 → NatGateway (PrivateDefaultRoute)",
        "120 allow tcp 22 203.0.113.0/24",
    ] {
        assert!(index.contains(s), "resource table lacks {s:?}");
    }
    // Same input, same bytes, for every page.
    let again = dir.join("again");
    assert_eq!(vpcsim(args(&again)).code, 0);
    for f in ["index.html", "flow-1.html", "flow-2.html"] {
        assert!(
            read(&out.join(f)) == read(&again.join(f)),
            "{f} differs between runs"
        );
    }
    // A bad flow writes nothing.
    let bad = dir.join("bad");
    let o = vpcsim([
        "report",
        "-t",
        &ex(),
        "--out",
        bad.to_str().unwrap(),
        "--flow",
        "tcp 10.0.0.1 -> 10.0.0.2",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--flow") && !bad.exists(), "{}", o.stderr);

    let Some(bin) = chromium() else {
        eprintln!(
            "note: chromium not installed; skipping the browser checks (.ci/run installs it)"
        );
        return;
    };
    let dom = dump_dom(&bin, &out.join("index.html"), "");
    assert!(dom.contains("Reachability") && dom.contains(r#"id="res-NatGateway""#));
    screenshot(&bin, &out.join("index.html"), &dir.join("index.png"));
    let dom = dump_dom(&bin, &out.join("flow-2.html"), "");
    assert!(
        dom.contains("hop hop-badge forward bad last selected"),
        "the deciding hop is selected on load"
    );
}

/// Logical ids are alphanumeric, but Name tags are free text: none of it may become markup.
#[test]
fn names_cannot_inject_markup() {
    let dir = out_dir("escape");
    let template = dir.join("evil.yaml");
    std::fs::write(
        &template,
        r#"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.9.0.0/16
      Tags: [{ Key: Name, Value: "<script>alert('vpc')</script>" }]
  Igw:
    Type: AWS::EC2::InternetGateway
    Properties:
      Tags: [{ Key: Name, Value: "</template></svg><script>alert(1)</script>" }]
  Attach:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: { VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw }
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.9.1.0/24
      AvailabilityZone: us-east-1a
      MapPublicIpOnLaunch: true
      Tags: [{ Key: Name, Value: "<img src=x onerror=alert(2)>" }]
  Rt:
    Type: AWS::EC2::RouteTable
    Properties: { VpcId: !Ref Vpc }
  Default:
    Type: AWS::EC2::Route
    DependsOn: Attach
    Properties: { RouteTableId: !Ref Rt, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Igw }
  Assoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref Subnet, RouteTableId: !Ref Rt }
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: "<b>bold</b>"
      VpcId: !Ref Vpc
      SecurityGroupIngress: [{ IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0 }]
      Tags: [{ Key: Name, Value: "'\"><svg onload=alert(3)>" }]
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0
      SubnetId: !Ref Subnet
      PrivateIpAddress: 10.9.1.10
      SecurityGroupIds: [!Ref Sg]
      Tags: [{ Key: Name, Value: "x\" onmouseover=\"alert(4)" }]
"#,
    )
    .unwrap();
    let t = template.display().to_string();
    let page = dir.join("trace.html");
    let o = vpcsim([
        "trace",
        "-t",
        &t,
        "tcp 10.9.1.10:40000 -> 198.51.100.7:443",
        "--return",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let report = dir.join("site");
    let o = vpcsim([
        "report",
        "-t",
        &t,
        "--out",
        report.to_str().unwrap(),
        "--flow",
        "tcp 192.0.2.1:50000 -> 10.9.1.10:22",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let pages = [
        (page.clone(), 1),
        (report.join("index.html"), 0),
        (report.join("flow-1.html"), 1),
    ];
    for (p, scripts) in &pages {
        let html = read(p);
        let lower = html.to_ascii_lowercase();
        assert_eq!(
            lower.matches("<script").count(),
            *scripts,
            "{}",
            p.display()
        );
        for bad in [
            "<img",
            "<svg onload",
            "<b>bold",
            "onmouseover=\"",
            "</template></svg>",
        ] {
            assert!(!lower.contains(bad), "{}: {bad:?} got through", p.display());
        }
    }
    let html = read(&page);
    assert!(html.contains("&lt;script&gt;alert(&#39;vpc&#39;)&lt;/script&gt;"));
    assert!(html.contains("x&quot; onmouseover=&quot;alert(4)"));
    assert!(read(&report.join("index.html")).contains("&lt;img src=x onerror=alert(2)&gt;"));

    let Some(bin) = chromium() else {
        eprintln!(
            "note: chromium not installed; skipping the browser checks (.ci/run installs it)"
        );
        return;
    };
    // In the browser, the names are text: one script element (the page's), no injected elements
    // or event-handler attributes, and every hop still drawn. (The serialized DOM escapes `<` in
    // text, so a `<` starts a real tag; quotes in text stay as they are, hence the tag scan.)
    for (p, scripts) in &pages {
        let dom = dump_dom(&bin, p, "").to_ascii_lowercase();
        let tags: Vec<&str> = dom
            .split('<')
            .skip(1)
            .map(|t| &t[..t.find('>').unwrap_or(t.len())])
            .collect();
        let count = |f: &dyn Fn(&str) -> bool| tags.iter().filter(|t| f(t)).count();
        assert_eq!(
            count(&|t| t.starts_with("script")),
            *scripts,
            "{}",
            p.display()
        );
        assert_eq!(
            count(&|t| t.starts_with("img") || t.starts_with("svg onload")),
            0
        );
        assert_eq!(
            count(&|t| t.contains(" onmouseover=")
                || t.contains(" onerror=")
                || t.contains(" onload=")),
            0
        );
        assert!(
            dom.contains("x\" onmouseover=\"alert(4)") || p.ends_with("index.html"),
            "the name is shown as text"
        );
    }
    let dom = dump_dom(&bin, &page, "");
    assert!(dom.contains(&badge("return", 0)), "return path drawn");
}

#[test]
fn help_documents_html_and_report() {
    let o = vpcsim(["trace", "--help"]);
    assert!(
        o.stdout.contains("--html <FILE>") && o.stdout.contains("--return --html trace.html"),
        "{}",
        o.stdout
    );
    let o = vpcsim(["report", "--help"]);
    assert_eq!(o.code, 0);
    for s in [
        "Examples:",
        "vpcsim report -t examples/two-tier.yaml --out report",
        "--flow <FLOW>",
        "--out <DIR>",
    ] {
        assert!(
            o.stdout.contains(s),
            "report --help lacks {s:?}: {}",
            o.stdout
        );
    }
    assert!(vpcsim(["--help"]).stdout.contains("report"));
}
