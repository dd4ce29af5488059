//! `--no-auth`: the credential scope is read (it names the service and region) but the signature
//! is not verified, and every action is allowed.

use std::time::SystemTime;

use crate::call::{Authenticated, Authenticator, Caller, CallerKind, HttpRequest};
use crate::error::ApiError;
use crate::service::Service;
use crate::store::Store;

/// Names the signer's service and region from the credential scope, verifying nothing.
#[derive(Debug, Clone)]
pub struct NoAuthAuthenticator {
    /// The account every caller acts in.
    pub account: String,
}

/// The parts of a SigV4 credential scope: access key, region, service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// The access key id.
    pub access_key: String,
    /// The scope's region.
    pub region: String,
    /// The scope's signing name.
    pub service: String,
}

/// The credential scope of a request: from `Authorization: AWS4-HMAC-SHA256 Credential=…` or
/// the `X-Amz-Credential` query parameter (presigned form).
pub fn credential_scope(request: &HttpRequest<'_>) -> Option<CredentialScope> {
    let from_header = request.header("authorization").and_then(|v| {
        let rest = v.trim().strip_prefix("AWS4-HMAC-SHA256")?;
        rest.split(',')
            .find_map(|p| p.trim().strip_prefix("Credential="))
            .map(str::to_string)
    });
    let credential = from_header.or_else(|| {
        form_urlencoded::parse(request.query.as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v.into_owned())
    })?;
    let (access_key, _date, region, service) =
        crate::auth::sigv4::parse_credential(credential.trim()).ok()?;
    Some(CredentialScope {
        access_key,
        region,
        service,
    })
}

impl Authenticator for NoAuthAuthenticator {
    fn authenticate(
        &self,
        _store: &Store,
        request: &HttpRequest<'_>,
        _now: SystemTime,
    ) -> Result<Authenticated, ApiError> {
        let scope = credential_scope(request).ok_or_else(|| {
            ApiError::with_status(
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
                403,
            )
        })?;
        let service = Service::from_signing_name(&scope.service).ok_or_else(|| {
            ApiError::with_status(
                "IncompleteSignature",
                format!(
                    "Credential should be scoped to correct service: '{}' is not a service this server simulates",
                    scope.service
                ),
                403,
            )
        })?;
        // Global services keep one state and sign with us-east-1.
        let region = if service.is_global() {
            "us-east-1".to_string()
        } else {
            scope.region
        };
        Ok(Authenticated {
            caller: Caller {
                arn: format!("arn:aws:iam::{}:root", self.account),
                principal_id: self.account.clone(),
                access_key_id: scope.access_key,
                kind: CallerKind::Anonymous,
                tags: Vec::new(),
            },
            service,
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_from_header_and_query() {
        let headers = vec![(
            "Authorization".to_string(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc".to_string(),
        )];
        let r = HttpRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let s = credential_scope(&r).unwrap();
        assert_eq!(
            (s.region.as_str(), s.service.as_str()),
            ("eu-west-1", "ec2")
        );
        let r = HttpRequest {
            method: "GET",
            path: "/",
            query: "Action=DescribeVpcs&X-Amz-Credential=AK%2F20261207%2Fus-west-2%2Fec2%2Faws4_request",
            headers: &[],
            body: b"",
        };
        assert_eq!(credential_scope(&r).unwrap().region, "us-west-2");
        let r = HttpRequest { query: "", ..r };
        let e = NoAuthAuthenticator {
            account: "1".into(),
        }
        .authenticate(&Store::open(None).unwrap(), &r, SystemTime::now())
        .unwrap_err();
        assert_eq!(e.code, "MissingAuthenticationToken");
    }
}
