//! What a service handler receives: the decoded request, who is asking, and where.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::SystemTime;

use serde_json::Value;

use crate::error::ApiError;
use crate::params::Params;
use crate::service::Service;

/// The kind of identity a request was signed by, as CloudTrail's `userIdentity.type` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// The account's root credentials (`--access-key`, or generated at first start).
    Root,
    /// An IAM user's long-term access key (`AKIA…`).
    IamUser {
        /// The user's name.
        name: String,
    },
    /// A role session from `AssumeRole` (`ASIA…` key and a session token).
    AssumedRole {
        /// The role's name.
        role: String,
        /// The role's ARN (`arn:aws:iam::<acct>:role/<path><name>`).
        role_arn: String,
        /// The role's unique id (`AROA…`).
        role_id: String,
        /// `RoleSessionName`.
        session: String,
        /// When the session was issued (CloudTrail `sessionContext.attributes.creationDate`).
        issued: SystemTime,
    },
    /// `--no-auth`: nobody signed; everything is allowed and CloudTrail says so.
    Anonymous,
}

/// Who signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The principal's ARN (`arn:aws:iam::<acct>:user/dev`, `arn:aws:sts::<acct>:assumed-role/r/s`,
    /// `arn:aws:iam::<acct>:root`).
    pub arn: String,
    /// The principal's unique id (`AIDA…`, `AROA…:session`, or the account id for root).
    pub principal_id: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// The kind of identity.
    pub kind: CallerKind,
    /// The principal's tags (`aws:PrincipalTag/<key>`).
    pub tags: Vec<(String, String)>,
}

/// One decoded API request.
#[derive(Debug)]
pub struct Call {
    /// The service the signature names.
    pub service: Service,
    /// The operation, e.g. `CreateVpc`.
    pub action: String,
    /// Query/EC2 parameters (empty for JSON and REST requests).
    pub params: Params,
    /// The JSON body of a JSON-protocol request.
    pub json: Option<Value>,
    /// The HTTP method (REST services route on it).
    pub method: String,
    /// The request path without the query string (REST services route on it).
    pub path: String,
    /// The raw body (REST-XML bodies).
    pub body: Vec<u8>,
    /// The region the signature names (`us-east-1` for global services).
    pub region: String,
    /// The account the server simulates.
    pub account: String,
    /// The request id returned to the client and recorded in CloudTrail.
    pub request_id: String,
    /// The client's address (`aws:SourceIp`, CloudTrail `sourceIPAddress`).
    pub source_ip: IpAddr,
    /// The `User-Agent` header (CloudTrail `userAgent`).
    pub user_agent: Option<String>,
    /// When the request arrived.
    pub now: SystemTime,
    /// Who signed it.
    pub caller: Caller,
    /// Checks the caller's policies; set by the server.
    pub authorizer: std::sync::Arc<dyn Authorizer>,
    authorized: Cell<bool>,
    changed: RefCell<BTreeSet<String>>,
}

/// Decides whether the caller may perform an action on resources (IAM policy evaluation).
pub trait Authorizer: Send + Sync + std::fmt::Debug {
    /// `Ok` when `call.caller` may perform `action` (`ec2:CreateVpc`) on every ARN in
    /// `resources` given the extra condition keys in `context` (`ec2:Vpc`,
    /// `aws:RequestTag/Name`, ...); otherwise the service's denial error
    /// (`UnauthorizedOperation` for EC2, `AccessDenied` for Query services,
    /// `AccessDeniedException` for JSON services), with AWS's message.
    fn authorize(
        &self,
        call: &Call,
        action: &str,
        resources: &[String],
        context: &[(String, Vec<String>)],
    ) -> Result<(), ApiError>;
}

/// What a handler answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An XML document (EC2, Query, REST-XML), status 200.
    Xml(String),
    /// A JSON document (JSON protocols), status 200.
    Json(Value),
    /// A REST answer with its own status (Route 53's 201 on create).
    XmlStatus(u16, String),
}

impl Call {
    /// A call as the server builds it, not yet authorised.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        service: Service,
        action: String,
        region: String,
        account: String,
        request_id: String,
        source_ip: IpAddr,
        now: SystemTime,
        caller: Caller,
        authorizer: std::sync::Arc<dyn Authorizer>,
    ) -> Call {
        Call {
            service,
            action,
            params: Params::default(),
            json: None,
            method: "POST".into(),
            path: "/".into(),
            body: Vec::new(),
            region,
            account,
            request_id,
            source_ip,
            user_agent: None,
            now,
            caller,
            authorizer,
            authorized: Cell::new(false),
            changed: RefCell::new(BTreeSet::new()),
        }
    }

    /// The IAM action this call is (`ec2:CreateVpc`).
    pub fn iam_action(&self) -> String {
        format!("{}:{}", self.service.iam_prefix(), self.action)
    }

    /// Checks the caller's policies for this call's action on `resources`. Every handler calls
    /// this (or [`authorize_as`](Self::authorize_as)) before reading or changing anything; the
    /// server refuses to answer a call that never did.
    pub fn authorize(
        &self,
        resources: &[String],
        context: &[(String, Vec<String>)],
    ) -> Result<(), ApiError> {
        self.authorize_as(&self.iam_action(), resources, context)
    }

    /// As [`authorize`](Self::authorize), for an action other than the call's own (tag-on-create
    /// needs `ec2:CreateTags` as well).
    pub fn authorize_as(
        &self,
        action: &str,
        resources: &[String],
        context: &[(String, Vec<String>)],
    ) -> Result<(), ApiError> {
        self.authorizer
            .authorize(self, action, resources, context)?;
        self.authorized.set(true);
        Ok(())
    }

    /// Marks a call that needs no permission (`sts:GetCallerIdentity`) as checked.
    pub fn authorize_none(&self) {
        self.authorized.set(true);
    }

    /// Whether the handler checked the caller's permissions.
    pub fn was_authorized(&self) -> bool {
        self.authorized.get()
    }

    /// EC2's `DryRun`: after authorisation and validation, a dry run stops here with
    /// `DryRunOperation`.
    pub fn check_dry_run(&self) -> Result<(), ApiError> {
        if self.params.dry_run()? {
            return Err(ApiError::dry_run_ok());
        }
        Ok(())
    }

    /// Records that this call changed a region's network, so the server recompiles and swaps
    /// that region's data plane once the transaction has committed.
    pub fn changed(&self, region: &str) {
        self.changed.borrow_mut().insert(region.to_string());
    }

    /// The regions this call changed.
    pub fn changed_regions(&self) -> Vec<String> {
        self.changed.borrow().iter().cloned().collect()
    }

    /// The ARN of an EC2 resource in this call's region and account
    /// (`arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc`).
    pub fn ec2_arn(&self, resource_type: &str, id: &str) -> String {
        format!(
            "arn:aws:ec2:{}:{}:{resource_type}/{id}",
            self.region, self.account
        )
    }
}

/// The parts of an HTTP request that authentication reads.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path, percent-encoded as sent, without the query string.
    pub path: &'a str,
    /// The query string as sent (without `?`), possibly empty.
    pub query: &'a str,
    /// Every header, names as sent (compare case-insensitively).
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl HttpRequest<'_> {
    /// A header's value; header names compare case-insensitively, as HTTP says.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Who signed a request, for which service and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The signer.
    pub caller: Caller,
    /// The service of the credential scope.
    pub service: Service,
    /// The region of the credential scope.
    pub region: String,
}

/// Checks a request's SigV4 signature (header or query form) and names the signer.
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    /// The signer, or AWS's error: `MissingAuthenticationToken`, `IncompleteSignature`,
    /// `InvalidClientTokenId` (unknown key), `SignatureDoesNotMatch`, `RequestExpired` (clock
    /// skew over 15 minutes), `ExpiredToken` (session over).
    fn authenticate(
        &self,
        store: &crate::store::Store,
        request: &HttpRequest<'_>,
        now: SystemTime,
    ) -> Result<Authenticated, ApiError>;
}

/// Records every call, allowed or denied, as a CloudTrail event.
pub trait Recorder: Send + Sync + std::fmt::Debug {
    /// Stores the event for `call` and its outcome (`responseElements` from the reply of a
    /// mutating call; `errorCode`/`errorMessage` from an error).
    fn record(&self, store: &crate::store::Store, call: &Call, outcome: &Result<Reply, ApiError>);
}
