//! API errors as AWS returns them: a code, a message, the HTTP status, and whether the caller
//! (`Sender`) or the service (`Receiver`) is at fault. [`ApiError::render`] writes the body in the
//! shape each wire protocol uses, which the SDKs' parsers expect exactly.

use crate::service::Protocol;
use crate::xml::escape;

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// AWS's error code, e.g. `InvalidVpcID.NotFound`, `DependencyViolation`, `AccessDenied`.
    pub code: String,
    /// The human message; AWS's own wording where it is known (SPEC.md §22.3).
    pub message: String,
    /// The HTTP status.
    pub status: u16,
    /// `true` for the service's own faults (5xx, `Receiver`), `false` for the caller's.
    pub server_fault: bool,
}

impl ApiError {
    /// A client error (HTTP 400, `Sender`).
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        Self::with_status(code, message, 400)
    }

    /// An error with an explicit HTTP status (403 for `UnauthorizedOperation`, 404 for IAM's
    /// `NoSuchEntity`, 409 for `EntityAlreadyExists`, ...).
    pub fn with_status(code: &str, message: impl Into<String>, status: u16) -> Self {
        ApiError {
            code: code.to_string(),
            message: message.into(),
            status,
            server_fault: status >= 500,
        }
    }

    /// An internal failure (HTTP 500, `InternalError`); the message names what failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_status("InternalError", message, 500)
    }

    /// `MissingParameter`: a required parameter is absent.
    pub fn missing_parameter(name: &str) -> Self {
        Self::client(
            "MissingParameter",
            format!("The request must contain the parameter {name}"),
        )
    }

    /// `InvalidParameterValue` with AWS's usual sentence.
    pub fn invalid_value(name: &str, value: &str, why: &str) -> Self {
        Self::client(
            "InvalidParameterValue",
            format!("Value ({value}) for parameter {name} is invalid. {why}"),
        )
    }

    /// `InvalidAction`: the service has no such operation.
    pub fn invalid_action(action: &str) -> Self {
        Self::client(
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        )
    }

    /// `DryRunOperation`: the request was authorised and valid, and `DryRun` kept it from acting.
    pub fn dry_run_ok() -> Self {
        Self::with_status(
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
            412,
        )
    }

    /// The body of this error in `protocol`'s shape, with the request id the client sees.
    pub fn render(&self, protocol: Protocol, xmlns: &str, request_id: &str) -> String {
        let code = escape(&self.code);
        let message = escape(&self.message);
        match protocol {
            // botocore's EC2 parser reads `Response/Errors/Error` and `RequestID` (capital D).
            Protocol::Ec2 => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
                 <Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
            ),
            Protocol::Query | Protocol::RestXml => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{}</Type>\
                 <Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if self.server_fault { "Receiver" } else { "Sender" }
            ),
            Protocol::Json10 | Protocol::Json11 => serde_json::json!({
                "__type": self.code,
                "message": self.message,
            })
            .to_string(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_errors_use_capital_request_id() {
        let e = ApiError::client("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist");
        let body = e.render(Protocol::Ec2, "", "r-1");
        assert!(body.contains("<Code>InvalidVpcID.NotFound</Code>"));
        assert!(body.contains("<RequestID>r-1</RequestID>"));
        assert_eq!(e.status, 400);
    }

    #[test]
    fn query_errors_name_the_fault_side() {
        let e = ApiError::with_status("NoSuchEntity", "The user with name x cannot be found.", 404);
        let body = e.render(
            Protocol::Query,
            "https://iam.amazonaws.com/doc/2010-05-08/",
            "r",
        );
        assert!(body.contains("<Type>Sender</Type>"));
        assert!(ApiError::internal("x")
            .render(Protocol::Query, "", "r")
            .contains("<Type>Receiver</Type>"));
    }

    #[test]
    fn json_errors_carry_type() {
        let v: serde_json::Value = serde_json::from_str(
            &ApiError::client("ResourceNotFoundException", "no such log group").render(
                Protocol::Json11,
                "",
                "r",
            ),
        )
        .unwrap();
        assert_eq!(v["__type"], "ResourceNotFoundException");
    }
}
