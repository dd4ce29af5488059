//! `vpcsim serve --live`: real programs in network namespaces talk through the simulated VPC.
//! Run as root with iproute2 (CI does); skipped with a message otherwise. The namespace names
//! are pinned (`vpcsim-internet` is one per machine), so the tests take turns.

mod common;
mod serve_common;

use serde_json::Value;
use serve_common::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One live network at a time: the namespace names are machine-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const INTERNET_HOST: &str = "198.51.100.7";

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Whether live mode can run here: root, `ip`, `curl` and `python3`.
fn can_run() -> bool {
    let uid = Command::new("id").arg("-u").output().ok();
    let root = uid.is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        eprintln!("skipped: live mode needs root (network namespaces)");
        return false;
    }
    for t in ["ip", "curl", "python3"] {
        if !tool(t) {
            eprintln!("skipped: `{t}` is missing");
            return false;
        }
    }
    true
}

fn vpcsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vpcsim"))
}

/// A `vpcsim serve --live` of the fixture, its outputs in a temporary folder.
struct Live {
    child: Option<Child>,
    url: String,
    dir: tempfile::TempDir,
}

impl Live {
    fn start(extra: &[&str]) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let child = vpcsim()
            .args(["serve", "--no-auth", "--listen", &listen, "-t"])
            .arg(common::fixture("live.yaml"))
            .args(["--live", "--internet-host", INTERNET_HOST, "--out"])
            .arg(dir.path().join("out"))
            .args(extra)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let live = Live {
            child: Some(child),
            url: format!("http://{listen}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{}/_vpcsim/health", live.url))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "no answer: {}", live.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        live
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// SIGINT, as Ctrl-C; the exit status.
    fn interrupt(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "did not stop: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.interrupt();
        }
    }
}

/// A program in a namespace, killed when dropped.
struct InNamespace(Child);

impl InNamespace {
    fn spawn(ns: &str, args: &[&str], log: &Path) -> InNamespace {
        let f = std::fs::File::create(log).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        InNamespace(child)
    }
}

impl Drop for InNamespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `curl` from a namespace: the body, or `None` when it fails (within `max_time` seconds).
fn curl(ns: &str, url: &str, max_time: &str) -> Option<String> {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "curl",
            "-s",
            "--max-time",
            max_time,
            url,
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Tries `curl` until it answers (a server just started may not listen yet).
fn curl_until(ns: &str, url: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(body) = curl(ns, url, "2") {
            return Some(body);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The first flow-log record (split into fields) that matches `want`, in any interface's file;
/// waits for it (the files are flushed every second).
fn flow_record(out: &Path, want: impl Fn(&[&str]) -> bool) -> Vec<String> {
    let dir = out.join("flowlogs");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut all = String::new();
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
        if let Some(l) = all.lines().find(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            want(&f)
        }) {
            return l.split(' ').map(str::to_string).collect();
        }
        assert!(
            Instant::now() < deadline,
            "no matching record in {}:\n{all}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Default format fields: version account-id interface-id srcaddr dstaddr srcport dstport
/// protocol packets bytes start end action log-status.
fn is(f: &[&str], src: &str, dst: &str, dst_port: &str, action: &str) -> bool {
    f.len() >= 14 && f[3] == src && f[4] == dst && f[6] == dst_port && f[12] == action
}

fn vpcsim_namespaces() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("vpcsim-"))
        .map(str::to_string)
        .collect()
}

fn vpcsim_links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("vpcsim-"))
        .collect()
}

/// The NAT gateway's public address: what `vpcsim trace` shows the packet leave with.
fn nat_public_address() -> String {
    let v: Value = common::trace(
        &common::fixture("live.yaml"),
        &format!("tcp 10.20.1.10:40000 -> {INTERNET_HOST}:8080"),
        &[],
    );
    v.pointer("/packet/src")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no translated source in {v}"))
        .to_string()
}

#[test]
fn curl_reaches_an_internet_server_through_the_nat_gateway() {
    if !can_run() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let live = Live::start(&[]);
    let log = live.dir.path().join("http.log");
    let _server = InNamespace::spawn(
        "vpcsim-internet",
        &[
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            INTERNET_HOST,
        ],
        &log,
    );
    let body = curl_until("vpcsim-App", &format!("http://{INTERNET_HOST}:8080/"));
    assert!(body.is_some(), "curl failed; server log:\n{}", live.log());
    let eip = nat_public_address();
    let access = std::fs::read_to_string(&log).unwrap();
    assert!(
        access.lines().any(|l| l.starts_with(&format!("{eip} "))),
        "the server saw no request from the NAT gateway's address {eip}:\n{access}"
    );
    // Both legs: the instance's interface, and the NAT gateway's toward the internet.
    let app = flow_record(&live.out(), |f| {
        is(f, "10.20.1.10", INTERNET_HOST, "8080", "ACCEPT")
    });
    let nat = flow_record(&live.out(), |f| {
        f.len() >= 14
            && f[3].starts_with("10.20.0.")
            && f[4] == INTERNET_HOST
            && f[6] == "8080"
            && f[12] == "ACCEPT"
    });
    assert_ne!(
        app[2], nat[2],
        "two interfaces: the instance's and the NAT gateway's"
    );
}

#[test]
fn the_security_group_rejects_until_a_rule_is_authorised_through_the_api() {
    if !can_run() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let live = Live::start(&[]);
    let log = live.dir.path().join("db.log");
    let _server = InNamespace::spawn(
        "vpcsim-Db",
        &[
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "10.20.1.20",
        ],
        &log,
    );
    // Give the server time to listen, so the failure below is the security group's.
    std::thread::sleep(Duration::from_millis(800));
    let url = "http://10.20.1.20:8080/";
    assert_eq!(
        curl("vpcsim-App", url, "2"),
        None,
        "the group lets nothing in"
    );
    flow_record(&live.out(), |f| {
        is(f, "10.20.1.10", "10.20.1.20", "8080", "REJECT")
    });
    let Some(python) = std::env::var_os("VPCSIM_AWS_PYTHON").filter(|v| !v.is_empty()) else {
        eprintln!("skipped the API part: VPCSIM_AWS_PYTHON is not set (a Python with awscli)");
        return;
    };
    let python = PathBuf::from(python);
    let bin = if python.is_dir() {
        python.join("bin")
    } else {
        python.parent().unwrap().to_path_buf()
    };
    let aws = |args: &[&str]| -> Value {
        let out = Command::new(bin.join("aws"))
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .args(["--endpoint-url", &live.url, "--output", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    let found = aws(&[
        "ec2",
        "describe-instances",
        "--filters",
        "Name=private-ip-address,Values=10.20.1.20",
    ]);
    let group = found
        .pointer("/Reservations/0/Instances/0/SecurityGroups/0/GroupId")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no group in {found}"))
        .to_string();
    aws(&[
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        &group,
        "--protocol",
        "tcp",
        "--port",
        "8080",
        "--cidr",
        "10.20.0.0/16",
    ]);
    // No restart: the next connection sees the rule.
    let body = curl_until("vpcsim-App", url);
    assert!(body.is_some(), "still rejected:\n{}", live.log());
    flow_record(&live.out(), |f| {
        is(f, "10.20.1.10", "10.20.1.20", "8080", "ACCEPT")
    });
}

#[test]
fn ctrl_c_and_live_down_leave_no_namespace_or_link() {
    if !can_run() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut live = Live::start(&[]);
    let mut made = vpcsim_namespaces();
    made.sort();
    assert_eq!(made, ["vpcsim-App", "vpcsim-Db", "vpcsim-internet"]);
    let status = vpcsim()
        .args(["live", "status", "--json"])
        .output()
        .unwrap();
    let record: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(record["namespaces"][0]["addresses"][0], "10.20.1.10/24");
    assert_eq!(record["namespaces"][0]["gateway"], "10.20.1.1");
    let resolv = std::fs::read_to_string("/etc/netns/vpcsim-App/resolv.conf").unwrap();
    assert!(resolv.contains("nameserver 10.20.0.2"), "{resolv}");
    assert!(live.interrupt().success(), "{}", live.log());
    assert!(vpcsim_namespaces().is_empty(), "{:?}", vpcsim_namespaces());
    assert!(vpcsim_links().is_empty(), "{:?}", vpcsim_links());

    // A crash (kill -9) leaves everything; `vpcsim live down` removes it.
    let mut crashed = Live::start(&[]);
    let mut child = crashed.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(vpcsim_namespaces().len(), 3);
    let down = vpcsim().args(["live", "down"]).output().unwrap();
    assert!(down.status.success(), "{down:?}");
    assert!(vpcsim_namespaces().is_empty(), "{:?}", vpcsim_namespaces());
    assert!(vpcsim_links().is_empty(), "{:?}", vpcsim_links());
}

#[test]
fn without_network_administration_it_says_so_and_exits_2() {
    if !can_run() || !tool("setpriv") {
        return;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_vpcsim"))
        .args(["serve", "--no-auth", "--live", "--listen"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs root (or CAP_NET_ADMIN)"), "{err}");
}
