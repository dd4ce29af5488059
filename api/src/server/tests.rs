use super::*;

#[derive(Debug)]
struct CountVpcs;

impl Tracer for CountVpcs {
    fn trace(&self, compiled: &Compiled, flow: &str, _from: Option<&str>) -> Result<Value, String> {
        Ok(json!({"flow": flow, "vpcs": compiled.model.vpcs.len()}))
    }

    fn target_health(&self, _compiled: &Compiled) -> Value {
        json!([])
    }

    fn replay(
        &self,
        compiled: &Compiled,
        _state: &mut vpcsim_dataplane::State,
        capture: &[u8],
        _options: &ReplayOptions,
    ) -> Result<RemoteReplay, String> {
        Ok(RemoteReplay {
            answer: json!({"bytes": capture.len(), "vpcs": compiled.model.vpcs.len()}),
            ..RemoteReplay::default()
        })
    }

    fn reach(&self, compiled: &Compiled, question: &Value) -> Result<Value, String> {
        Ok(json!({"from": question["from"], "vpcs": compiled.model.vpcs.len()}))
    }
}

fn server() -> Server {
    Server {
        store: Arc::new(Store::open(None).unwrap()),
        planes: Arc::new(Planes::new("123456789012")),
        authenticator: Arc::new(NoAuthAuthenticator {
            account: "123456789012".into(),
        }),
        authorizer: Arc::new(AllowAll),
        recorder: Arc::new(crate::trail::CloudTrailRecorder),
        tracer: Arc::new(CountVpcs),
        account: "123456789012".into(),
        default_region: "us-east-1".into(),
    }
}

fn signed(region: &str, service: &str) -> Vec<(String, String)> {
    vec![
        (
            "Authorization".into(),
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00"),
        ),
        ("Content-Type".into(), "application/x-www-form-urlencoded; charset=utf-8".into()),
    ]
}

fn post(s: &Server, headers: &[(String, String)], body: &str) -> Answer {
    s.handle(
        &HttpRequest {
            method: "POST",
            path: "/",
            query: "",
            headers,
            body: body.as_bytes(),
        },
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        SystemTime::now(),
    )
}

#[test]
fn the_signature_names_service_and_region() {
    let s = server();
    let a = post(
        &s,
        &signed("eu-west-1", "ec2"),
        "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("<CreateVpcResponse"));
    assert!(!a.request_id.is_empty());
    // The new VPC is in eu-west-1's data plane, beside the region's default VPC.
    let c = s.planes.region(&s.store, "eu-west-1").unwrap().current();
    assert_eq!(c.model.vpcs.len(), 2);
    assert_eq!(
        s.planes
            .region(&s.store, "us-east-2")
            .unwrap()
            .current()
            .model
            .vpcs
            .len(),
        1
    );
}

#[test]
fn errors_in_each_protocol() {
    let s = server();
    let a = post(&s, &[], "Action=DescribeVpcs");
    assert_eq!(a.status, 403);
    assert!(a.body.contains("MissingAuthenticationToken"));
    let a = post(
        &s,
        &signed("us-east-1", "ec2"),
        "Action=DescribeUnicorns&Version=2016-11-15",
    );
    assert_eq!(a.status, 400);
    assert!(a.body.contains("<Code>InvalidAction</Code>") && a.body.contains("<RequestID>"));
    let a = post(&s, &signed("us-east-1", "ec2"), "Version=2016-11-15");
    assert!(a.body.contains("MissingAction"));
    let mut headers = signed("us-east-1", "logs");
    headers.push((
        "X-Amz-Target".into(),
        "Logs_20140328.DescribeUnicorns".into(),
    ));
    let a = post(&s, &headers, "{}");
    assert_eq!(
        serde_json::from_str::<Value>(&a.body).unwrap()["__type"],
        "UnknownOperationException"
    );
    let a = post(
        &s,
        &signed("us-east-1", "cloudformation"),
        "Action=DescribeStacks&Version=2010-05-15&StackName=nope",
    );
    assert!(
        a.body.contains(
            "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">"
        ),
        "{}",
        a.body
    );
    assert!(a.body.contains("Stack with id nope does not exist"));
}

#[test]
fn vpcsim_endpoints() {
    let s = server();
    let get = |path: &str, method: &str, body: &str| {
        s.handle(
            &HttpRequest {
                method,
                path,
                query: "",
                headers: &[],
                body: body.as_bytes(),
            },
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            SystemTime::now(),
        )
    };
    let a = get(
        "/_vpcsim/trace",
        "POST",
        r#"{"flow": "tcp 10.0.0.1 -> 10.0.0.2:80", "region": "ap-south-1"}"#,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(serde_json::from_str::<Value>(&a.body).unwrap()["vpcs"], 1);
    let h: Value = serde_json::from_str(&get("/_vpcsim/health", "GET", "").body).unwrap();
    assert_eq!(h["status"], "ok");
    assert!(h["regions"]["ap-south-1"]["errors"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(get("/_vpcsim/trace", "POST", "{").status, 400);
    assert_eq!(get("/_vpcsim/nothing", "GET", "").status, 404);
}
