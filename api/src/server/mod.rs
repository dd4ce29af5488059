//! The HTTP server behind `vpcsim serve`: one endpoint for every service, as AWS SDKs reach it
//! with `--endpoint-url`.
//!
//! A request's SigV4 credential scope names the service and region; the service's protocol then
//! says where the operation is (`Action` for Query and EC2, `X-Amz-Target` for JSON, the path
//! for REST). The handler runs; a call it never authorised is refused; the call is recorded;
//! the regions it changed are recompiled and swapped into their data planes before the answer
//! leaves, so the next trace sees the change. Paths under `/_vpcsim/` are the data plane's own
//! endpoints (trace, health, replay, reach).

mod dataplane;
mod noauth;

pub use dataplane::{RemoteReplay, ReplayOptions};

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

pub use crate::auth::AllowAll;
pub use noauth::{credential_scope, CredentialScope, NoAuthAuthenticator};

use crate::call::{Authenticator, Authorizer, Call, HttpRequest, Recorder, Reply};
use crate::error::ApiError;
use crate::params::Params;
use crate::plane::{Compiled, Planes};
use crate::service::{Protocol, Service};
use crate::services::elbv2::{TargetHealth, TargetHealthSource};
use crate::store::Store;

/// The largest request body read (16 MiB): CloudFormation's largest template body is 51,200
/// bytes and EC2 requests are small; a bound keeps a stray upload from exhausting memory.
pub const MAX_BODY_BYTES: u64 = 16 << 20;

/// The HTTP listener the server answers on.
pub type Listener = tiny_http::Server;

/// Binds `addr` for [`Server::run`].
pub fn listen(addr: std::net::SocketAddr) -> Result<Listener, String> {
    tiny_http::Server::http(addr).map_err(|e| e.to_string())
}

/// Runs a trace through a region's data plane and answers with the JSON `vpcsim trace --json`
/// prints. The binary implements it with its trace code, so this crate does not depend on it.
pub trait Tracer: Send + Sync + std::fmt::Debug {
    /// Traces `flow` (`tcp 10.0.1.5:40000 -> 10.0.2.7:443`) from `from` (a resource id or
    /// logical id; `None`: the interface owning the source address) through `compiled`.
    fn trace(&self, compiled: &Compiled, flow: &str, from: Option<&str>) -> Result<Value, String>;

    /// Every target group's health in `compiled`, as `vpcsim health --json` prints it: a list of
    /// `{TargetGroupArn, TargetHealthDescriptions: [{Target: {Id, Port}, TargetHealth}]}`.
    fn target_health(&self, compiled: &Compiled) -> Value;

    /// Replays `capture` (pcap or pcapng bytes) through `compiled` from `state`, which keeps
    /// what the frames leave in it, as `vpcsim replay` does.
    fn replay(
        &self,
        compiled: &Compiled,
        state: &mut vpcsim_dataplane::State,
        capture: &[u8],
        options: &ReplayOptions,
    ) -> Result<RemoteReplay, String>;

    /// Answers a reachability question (`from`, `to`, `protocol`, `ipv6`, `matrix`) on
    /// `compiled` with the JSON `vpcsim reach --json` prints.
    fn reach(&self, compiled: &Compiled, question: &Value) -> Result<Value, String>;
}

/// `DescribeTargetHealth` answered by the region's data plane: the health checks the pipeline
/// ran when the region was compiled.
struct PlaneHealth<'s> {
    server: &'s Server,
}

impl TargetHealthSource for PlaneHealth<'_> {
    fn target_health(
        &self,
        region: &str,
        target_group: &Value,
        targets: &[Value],
    ) -> Result<Vec<TargetHealth>, ApiError> {
        let unavailable = |why: &str| {
            ApiError::with_status(
                "HealthUnavailable",
                format!("The health of the specified targets could not be retrieved: {why}"),
                500,
            )
        };
        let plane = self.server.planes.region(&self.server.store, region)?;
        let all = self.server.tracer.target_health(&plane.current());
        let arn = target_group["TargetGroupArn"].as_str().unwrap_or_default();
        let group = all
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g["TargetGroupArn"] == arn))
            .ok_or_else(|| unavailable("the data plane has no health checks for this group"))?;
        let descriptions = group["TargetHealthDescriptions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let port = |v: &Value| v.as_u64().or_else(|| v.as_str()?.parse().ok());
        targets
            .iter()
            .map(|t| {
                let d = descriptions
                    .iter()
                    .find(|d| {
                        d["Target"]["Id"] == t["Id"]
                            && port(&d["Target"]["Port"]) == port(&t["Port"])
                    })
                    .ok_or_else(|| {
                        unavailable("a registered target is not in the data plane yet")
                    })?;
                let h = &d["TargetHealth"];
                Ok(TargetHealth {
                    state: h["State"].as_str().unwrap_or("unavailable").to_string(),
                    reason: h["Reason"].as_str().map(str::to_string),
                    description: h["Description"].as_str().map(str::to_string),
                })
            })
            .collect()
    }
}

/// Everything a request needs, shared by the worker threads.
#[derive(Debug, Clone)]
pub struct Server {
    /// The state.
    pub store: Arc<Store>,
    /// The regions' data planes.
    pub planes: Arc<Planes>,
    /// Who signed a request.
    pub authenticator: Arc<dyn Authenticator>,
    /// What the signer may do.
    pub authorizer: Arc<dyn Authorizer>,
    /// Where calls are recorded.
    pub recorder: Arc<dyn Recorder>,
    /// Traces for `/_vpcsim/trace`.
    pub tracer: Arc<dyn Tracer>,
    /// The account simulated.
    pub account: String,
    /// The region `/_vpcsim/trace` uses when the request names none.
    pub default_region: String,
}

/// One answer on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
    /// `x-amzn-RequestId`.
    pub request_id: String,
    /// Other headers the protocol needs (Route 53's `Location`, CloudWatch's
    /// `x-amzn-query-error`).
    pub headers: Vec<(String, String)>,
}

impl Server {
    /// Serves on `listener` with `workers` threads until `stop` is set.
    pub fn run(&self, listener: Listener, workers: usize, stop: &AtomicBool) {
        let listener = Arc::new(listener);
        std::thread::scope(|s| {
            for _ in 0..workers.max(1) {
                let listener = Arc::clone(&listener);
                s.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        match listener.recv_timeout(Duration::from_millis(200)) {
                            Ok(Some(req)) => self.respond(req),
                            Ok(None) => {}
                            Err(_) => break,
                        }
                    }
                });
            }
        });
    }

    fn respond(&self, mut req: tiny_http::Request) {
        let method = req.method().as_str().to_string();
        let url = req.url().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_string(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        let source_ip = req
            .remote_addr()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip());
        let mut body = Vec::new();
        let read = req
            .as_reader()
            .take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body);
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let http = HttpRequest {
            method: &method,
            path,
            query,
            headers: &headers,
            body: &body,
        };
        let answer = match read {
            Err(e) => error_answer(
                &ApiError::client("MalformedQueryString", format!("cannot read the body: {e}")),
                Protocol::Query,
                "",
            ),
            Ok(_) if body.len() as u64 > MAX_BODY_BYTES => error_answer(
                &ApiError::with_status(
                    "RequestEntityTooLarge",
                    "The request body is too large.",
                    413,
                ),
                Protocol::Query,
                "",
            ),
            Ok(_) => self.handle(&http, source_ip, SystemTime::now()),
        };
        let mut response = tiny_http::Response::from_string(answer.body)
            .with_status_code(answer.status)
            .with_header(header("Content-Type", answer.content_type));
        response.add_header(header("x-amzn-RequestId", &answer.request_id));
        for (name, value) in &answer.headers {
            response.add_header(header(name, value));
        }
        // The client may have gone away; there is nobody left to tell.
        let _ = req.respond(response);
    }

    /// Answers one request (the HTTP layer aside, so tests can call it directly).
    pub fn handle(&self, http: &HttpRequest<'_>, source_ip: IpAddr, now: SystemTime) -> Answer {
        if let Some(endpoint) = http.path.strip_prefix("/_vpcsim/") {
            return self.vpcsim_endpoint(endpoint, http);
        }
        let request_id = crate::ids::uuid();
        let scoped = credential_scope(http).and_then(|s| Service::from_signing_name(&s.service));
        let fallback = scoped.map_or(Protocol::Query, |s| protocol_of(s, http));
        let who = match self.authenticator.authenticate(&self.store, http, now) {
            Ok(a) => a,
            Err(e) => {
                // Each protocol names authentication failures its own way (EC2's `AuthFailure`,
                // JSON's `UnrecognizedClientException`).
                let e = match scoped {
                    Some(service) => crate::auth::credentials::for_service(e, service),
                    None => e,
                };
                return error_answer(&e, fallback, &request_id);
            }
        };
        let protocol = protocol_of(who.service, http);
        let xmlns = who.service.xmlns();
        let mut call = Call::new(
            who.service,
            String::new(),
            who.region.clone(),
            self.account.clone(),
            request_id.clone(),
            source_ip,
            now,
            who.caller,
            Arc::clone(&self.authorizer),
        );
        call.method = http.method.to_string();
        call.path = http.path.to_string();
        call.body = http.body.to_vec();
        call.user_agent = http.header("user-agent").map(str::to_string);
        if let Err(e) = decode_operation(&mut call, http, protocol) {
            return error_answer(&e, protocol, &request_id).with_xmlns(xmlns, protocol);
        }
        if !who.service.is_global() {
            if let Err(e) = self.planes.region(&self.store, &who.region) {
                return error_answer(&e, protocol, &request_id).with_xmlns(xmlns, protocol);
            }
        }
        let health = PlaneHealth { server: self };
        let mut outcome = crate::services::dispatch(&self.store, &call, &health);
        if outcome.is_ok() && !call.was_authorized() {
            outcome = Err(ApiError::internal(format!(
                "{} answered without checking the caller's permissions",
                call.iam_action()
            )));
        }
        self.recorder.record(&self.store, &call, &outcome);
        for region in call.changed_regions() {
            if let Err(e) = self.planes.rebuild(&self.store, &region) {
                outcome = Err(e);
            }
        }
        match outcome {
            Ok(Reply::Xml(body)) => answer(200, "text/xml", body, request_id),
            Ok(Reply::XmlStatus(status, body)) => {
                let location =
                    crate::services::route53::location(&Reply::XmlStatus(status, body.clone()));
                let mut a = answer(status, "text/xml", body, request_id);
                a.headers
                    .extend(location.map(|l| ("Location".to_string(), l)));
                a
            }
            Err(e) if who.service == Service::CloudWatch && protocol == Protocol::Json10 => {
                // JSON-speaking SDKs of a service that spoke Query read the Query error code
                // from `x-amzn-query-error`.
                let (body, headers) = crate::services::cloudwatch::json_error(&e);
                let mut a = answer(e.status, json_type(protocol), body, request_id);
                a.headers = headers
                    .into_iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
                    .collect();
                a
            }
            Ok(Reply::Json(v)) => answer(200, json_type(protocol), v.to_string(), request_id),
            Err(e) => error_answer(&e, protocol, &request_id).with_xmlns(xmlns, protocol),
        }
    }

    fn vpcsim_endpoint(&self, endpoint: &str, http: &HttpRequest<'_>) -> Answer {
        let request_id = crate::ids::uuid();
        let fail = |status: u16, msg: String| {
            answer(
                status,
                "application/json",
                json!({"error": msg}).to_string(),
                request_id.clone(),
            )
        };
        match (http.method, endpoint) {
            ("GET", "health") => {
                let regions: serde_json::Map<String, Value> = self
                    .planes
                    .regions()
                    .into_iter()
                    .filter_map(|r| {
                        let c = self.planes.region(&self.store, &r).ok()?.current();
                        Some((r, json!({"errors": crate::plane::error_lines(&c)})))
                    })
                    .collect();
                let body = json!({"status": "ok", "account": self.account, "regions": regions});
                answer(
                    200,
                    "application/json",
                    body.to_string(),
                    request_id.clone(),
                )
            }
            ("POST", "trace") => {
                let req: Value = match serde_json::from_slice(http.body) {
                    Ok(v) => v,
                    Err(e) => return fail(400, format!("the body is not JSON: {e}")),
                };
                let Some(flow) = req.get("flow").and_then(Value::as_str) else {
                    return fail(400, "the body needs \"flow\": \"tcp A -> B:443\"".into());
                };
                let region = req
                    .get("region")
                    .and_then(Value::as_str)
                    .unwrap_or(&self.default_region);
                let plane = match self.planes.region(&self.store, region) {
                    Ok(p) => p,
                    Err(e) => return fail(500, e.to_string()),
                };
                let from = req.get("from").and_then(Value::as_str);
                match self.tracer.trace(&plane.current(), flow, from) {
                    Ok(v) => answer(200, "application/json", v.to_string(), request_id.clone()),
                    Err(e) => fail(400, e),
                }
            }
            ("POST", "replay") => self.replay_endpoint(http),
            ("POST", "reach") => self.reach_endpoint(http),
            _ => fail(
                404,
                format!("no endpoint {} /_vpcsim/{endpoint}", http.method),
            ),
        }
    }
}

impl Answer {
    fn with_xmlns(mut self, xmlns: &str, protocol: Protocol) -> Answer {
        if matches!(protocol, Protocol::Query | Protocol::RestXml) {
            self.body = self
                .body
                .replacen("xmlns=\"\"", &format!("xmlns=\"{xmlns}\""), 1);
        }
        self
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("header names and values written here are ASCII")
}

fn answer(status: u16, content_type: &'static str, body: String, request_id: String) -> Answer {
    Answer {
        status,
        content_type,
        body,
        request_id,
        headers: Vec::new(),
    }
}

fn error_answer(e: &ApiError, protocol: Protocol, request_id: &str) -> Answer {
    let content_type = match protocol {
        Protocol::Json10 | Protocol::Json11 => json_type(protocol),
        _ => "text/xml",
    };
    answer(
        e.status,
        content_type,
        e.render(protocol, "", request_id),
        request_id.to_string(),
    )
}

fn json_type(protocol: Protocol) -> &'static str {
    if protocol == Protocol::Json10 {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    }
}

/// The protocol this request speaks: the service's, except that CloudWatch also takes JSON 1.0
/// (what current botocore sends) when the request says so.
fn protocol_of(service: Service, http: &HttpRequest<'_>) -> Protocol {
    let json = http.header("x-amz-target").is_some()
        || http
            .header("content-type")
            .is_some_and(|c| c.contains("x-amz-json"));
    match service.protocol() {
        Protocol::Query if service == Service::CloudWatch && json => Protocol::Json10,
        p => p,
    }
}

/// Fills the call's action and parameters from the request, per protocol.
fn decode_operation(
    call: &mut Call,
    http: &HttpRequest<'_>,
    protocol: Protocol,
) -> Result<(), ApiError> {
    match protocol {
        Protocol::Ec2 | Protocol::Query => {
            let mut form = http.query.as_bytes().to_vec();
            let is_form = http
                .header("content-type")
                .is_none_or(|c| c.starts_with("application/x-www-form-urlencoded"));
            if is_form && !http.body.is_empty() {
                form.push(b'&');
                form.extend_from_slice(http.body);
            }
            call.params = Params::from_form(&form);
            call.action = call
                .params
                .get("Action")
                .ok_or_else(|| {
                    ApiError::client(
                        "MissingAction",
                        "The request must contain the parameter Action",
                    )
                })?
                .to_string();
        }
        Protocol::Json10 | Protocol::Json11 => {
            let target = http.header("x-amz-target").ok_or_else(|| {
                ApiError::client("UnknownOperationException", "Missing X-Amz-Target header")
            })?;
            call.action = target.rsplit('.').next().unwrap_or(target).to_string();
            call.json = Some(if http.body.is_empty() {
                json!({})
            } else {
                serde_json::from_slice(http.body).map_err(|e| {
                    ApiError::client(
                        "SerializationException",
                        format!("the body is not JSON: {e}"),
                    )
                })?
            });
        }
        Protocol::RestXml => {
            call.params = Params::from_form(http.query.as_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
