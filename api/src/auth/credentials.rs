//! The [`Authenticator`]: finds the secret behind a request's access key (the root key in the
//! store's `meta`, an IAM user's access key, or an STS session) and verifies the SigV4
//! signature with it.

use std::time::SystemTime;

use serde_json::Value;

use crate::auth::entities::{self, ACCESS_KEYS, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, SESSIONS};
use crate::auth::{dates, sigv4};
use crate::call::{Authenticated, Authenticator, Caller, CallerKind, HttpRequest};
use crate::error::ApiError;
use crate::ids;
use crate::service::{Protocol, Service};
use crate::store::{Store, Tx, GLOBAL};

/// Verifies SigV4 against the credentials in the store.
#[derive(Debug, Clone)]
pub struct SigV4Authenticator {
    /// The account the server simulates (the root ARN and IAM ARNs name it).
    pub account: String,
}

/// A secret and the identity it signs for.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The secret access key.
    pub secret: String,
    /// Who signs with it.
    pub caller: Caller,
    /// The session token a temporary credential must carry.
    pub session_token: Option<String>,
    /// When a temporary credential stops working.
    pub expires: Option<SystemTime>,
}

/// `InvalidClientTokenId`: the access key is unknown or inactive.
pub fn invalid_token() -> ApiError {
    ApiError::with_status(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    )
}

/// `ExpiredToken`: the session's credentials have expired.
pub fn expired_token() -> ApiError {
    ApiError::with_status(
        "ExpiredToken",
        "The security token included in the request is expired",
        403,
    )
}

/// The error codes an authentication failure carries in `service`'s protocol: EC2 answers an
/// unknown key with `AuthFailure`; the JSON services name their errors `…Exception`
/// (`UnrecognizedClientException`, `InvalidSignatureException`).
pub fn for_service(mut e: ApiError, service: Service) -> ApiError {
    let code = match (service.protocol(), e.code.as_str()) {
        // EC2 names a wrong secret as it names an unknown key: AWS answers `aws ec2` with
        // `AuthFailure` for both, where IAM and STS say `SignatureDoesNotMatch`.
        (Protocol::Ec2, "InvalidClientTokenId" | "SignatureDoesNotMatch") => {
            e.message = "AWS was not able to validate the provided access credentials".into();
            e.status = 401;
            "AuthFailure"
        }
        (Protocol::Json10 | Protocol::Json11, "InvalidClientTokenId") => {
            e.status = 400;
            "UnrecognizedClientException"
        }
        (Protocol::Json10 | Protocol::Json11, "SignatureDoesNotMatch") => {
            e.status = 400;
            "InvalidSignatureException"
        }
        (
            Protocol::Json10 | Protocol::Json11,
            c @ ("MissingAuthenticationToken" | "IncompleteSignature" | "ExpiredToken"),
        ) => {
            e.code = format!("{c}Exception");
            return e;
        }
        _ => return e,
    };
    e.code = code.to_string();
    e
}

fn root_caller(account: &str, key: &str) -> Caller {
    Caller {
        arn: format!("arn:aws:iam::{account}:root"),
        principal_id: account.to_string(),
        access_key_id: key.to_string(),
        kind: CallerKind::Root,
        tags: Vec::new(),
    }
}

fn user_caller(
    tx: &Tx<'_>,
    account: &str,
    name: &str,
    key: &str,
) -> Result<Option<Caller>, ApiError> {
    let Some(user) = entities::get(tx, entities::USERS, name)? else {
        return Ok(None);
    };
    Ok(Some(Caller {
        arn: user["Arn"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/{name}")),
        principal_id: user["UserId"].as_str().unwrap_or_default().to_string(),
        access_key_id: key.to_string(),
        kind: CallerKind::IamUser {
            name: user["UserName"].as_str().unwrap_or(name).to_string(),
        },
        tags: entities::tags(&user),
    }))
}

fn session_caller(
    tx: &Tx<'_>,
    account: &str,
    s: &Value,
    key: &str,
) -> Result<Option<Caller>, ApiError> {
    if let Some(user) = s["UserName"].as_str() {
        return user_caller(tx, account, user, key);
    }
    let Some(role_name) = s["RoleName"].as_str() else {
        return Ok(Some(root_caller(account, key)));
    };
    // A deleted role's sessions stop working, as AWS's do once the role is gone.
    let Some(role) = entities::get(tx, entities::ROLES, role_name)? else {
        return Ok(None);
    };
    let session = s["RoleSessionName"].as_str().unwrap_or_default();
    let role_id = role["RoleId"].as_str().unwrap_or_default().to_string();
    Ok(Some(Caller {
        arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
        principal_id: format!("{role_id}:{session}"),
        access_key_id: key.to_string(),
        kind: CallerKind::AssumedRole {
            role: role_name.to_string(),
            role_arn: role["Arn"].as_str().unwrap_or_default().to_string(),
            role_id,
            session: session.to_string(),
            issued: dates::from_epoch_seconds(s["IssuedEpoch"].as_i64().unwrap_or(0)),
        },
        tags: entities::tags(&role),
    }))
}

/// The credential behind an access key id, if there is one and it is active.
pub fn lookup(tx: &Tx<'_>, account: &str, key: &str) -> Result<Option<Credential>, ApiError> {
    if tx.meta(ROOT_ACCESS_KEY)?.as_deref() == Some(key) {
        let secret = tx.meta(ROOT_SECRET_KEY)?.unwrap_or_default();
        return Ok(Some(Credential {
            secret,
            caller: root_caller(account, key),
            session_token: None,
            expires: None,
        }));
    }
    if let Some(k) = tx.get(GLOBAL, ACCESS_KEYS, key)? {
        if k["Status"] != "Active" {
            return Ok(None);
        }
        let user = k["UserName"].as_str().unwrap_or_default();
        return Ok(
            user_caller(tx, account, user, key)?.map(|caller| Credential {
                secret: k["SecretAccessKey"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                caller,
                session_token: None,
                expires: None,
            }),
        );
    }
    if let Some(s) = tx.get(GLOBAL, SESSIONS, key)? {
        return Ok(
            session_caller(tx, account, &s, key)?.map(|caller| Credential {
                secret: s["SecretAccessKey"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                caller,
                session_token: s["SessionToken"].as_str().map(str::to_string),
                expires: Some(dates::from_epoch_seconds(
                    s["ExpirationEpoch"].as_i64().unwrap_or(0),
                )),
            }),
        );
    }
    Ok(None)
}

impl Authenticator for SigV4Authenticator {
    fn authenticate(
        &self,
        store: &Store,
        request: &HttpRequest<'_>,
        now: SystemTime,
    ) -> Result<Authenticated, ApiError> {
        let signed = sigv4::parse(request)?;
        let service = Service::from_signing_name(&signed.service).ok_or_else(|| {
            ApiError::client(
                "IncompleteSignature",
                format!(
                    "Credential should be scoped to correct service: '{}'.",
                    signed.service
                ),
            )
        })?;
        let fail = |e: ApiError| for_service(e, service);
        let cred = store
            .read(|tx| lookup(tx, &self.account, &signed.access_key_id))?
            .ok_or_else(|| fail(invalid_token()))?;
        match (&cred.session_token, &signed.security_token) {
            (Some(want), Some(got)) if want == got => {}
            (None, None) => {}
            _ => return Err(fail(invalid_token())),
        }
        sigv4::verify(request, &signed, &cred.secret).map_err(fail)?;
        sigv4::check_time(&signed, now).map_err(fail)?;
        if cred.expires.is_some_and(|e| now >= e) {
            return Err(fail(expired_token()));
        }
        Ok(Authenticated {
            caller: cred.caller,
            service,
            region: signed.region,
        })
    }
}

/// The root credentials: `--access-key`/`--secret-key` when given (stored, replacing earlier
/// ones), else those stored at an earlier start, else new ones generated and stored. The flag
/// is `true` when they were generated now, so the server prints them.
pub fn ensure_root_credentials(
    store: &Store,
    access_key: Option<&str>,
    secret_key: Option<&str>,
) -> Result<(String, String, bool), ApiError> {
    store.write(|tx| match (access_key, secret_key) {
        (Some(a), Some(s)) => {
            if a.len() < 16 || a.len() > 128 || !a.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ApiError::invalid_value(
                    "--access-key",
                    a,
                    "An access key id is 16 to 128 letters and digits.",
                ));
            }
            tx.put_meta(ROOT_ACCESS_KEY, a)?;
            tx.put_meta(ROOT_SECRET_KEY, s)?;
            Ok((a.to_string(), s.to_string(), false))
        }
        (None, None) => match (tx.meta(ROOT_ACCESS_KEY)?, tx.meta(ROOT_SECRET_KEY)?) {
            (Some(a), Some(s)) => Ok((a, s, false)),
            _ => {
                let (a, s) = (ids::unique_id("AKIA"), ids::secret_key());
                tx.put_meta(ROOT_ACCESS_KEY, &a)?;
                tx.put_meta(ROOT_SECRET_KEY, &s)?;
                Ok((a, s, true))
            }
        },
        _ => Err(ApiError::client(
            "MissingParameter",
            "--access-key and --secret-key are given together",
        )),
    })
}
