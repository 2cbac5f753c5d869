//! Test connection on the Sign-in settings page: checks the settings as typed (before they are
//! saved) against the provider — discovery, signing keys, PKCE S256, and the client id and
//! secret at the token endpoint — and says plainly what it could not check.

use openidconnect::core::{CoreClient, CoreErrorResponseType};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, PkceCodeVerifier, RedirectUrl, RequestTokenError,
};

use super::{Oidc, OidcError, describe};

/// The settings to test, as the admin typed them (the stored secret when none was typed).
#[derive(Debug, Clone)]
pub struct Typed {
    /// The issuer URL.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, when one was typed or is stored.
    pub client_secret: Option<String>,
}

/// One thing the test looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Whether it is in order.
    pub passed: bool,
    /// What was found, in a sentence.
    pub text: String,
    /// The provider's or HTTP client's own words, for an admin who expands them.
    pub detail: Option<String>,
}

impl Check {
    fn passed(text: impl Into<String>) -> Self {
        Self {
            passed: true,
            text: text.into(),
            detail: None,
        }
    }

    fn failed(text: impl Into<String>, detail: Option<String>) -> Self {
        Self {
            passed: false,
            text: text.into(),
            detail,
        }
    }

    fn from_error(error: &OidcError) -> Self {
        Self::failed(error.to_string(), error.detail().map(str::to_owned))
    }
}

/// The outcome of Test connection.
#[derive(Debug, Clone)]
pub struct ConnectionReport {
    /// What was checked, in order.
    pub checks: Vec<Check>,
    /// What the test cannot check, in sentences.
    pub not_checked: Vec<String>,
}

impl ConnectionReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|check| check.passed)
    }
}

/// An authorization code no provider issued: the token endpoint authenticates the client
/// before it looks at the code, so a good client gets `invalid_grant` and a bad one
/// `invalid_client`, and nothing is signed in.
const PROBE_CODE: &str = "insights-connection-test";

impl Oidc {
    /// Tests `typed` against the provider, for a tenant whose redirect URI is `redirect_uri`.
    pub async fn test_connection(&self, typed: &Typed, redirect_uri: &str) -> ConnectionReport {
        let mut checks = Vec::new();
        let mut not_checked = vec![format!(
            "The redirect URI: the provider checks it only when someone signs in, so register {redirect_uri} at the provider exactly as shown."
        )];
        not_checked.push(
            "Who may sign in: that is decided by the people assigned to the application at the provider and by who is provisioned here.".to_owned(),
        );
        let metadata = match self.metadata(&typed.issuer, true).await {
            Ok(metadata) => metadata,
            Err(error) => {
                checks.push(Check::from_error(&error));
                not_checked.insert(
                    0,
                    "Signing keys, PKCE and the client id and secret: they are found through the discovery document.".to_owned(),
                );
                return ConnectionReport {
                    checks,
                    not_checked,
                };
            }
        };
        checks.push(Check::passed(format!(
            "The discovery document was found at {} and names this issuer.",
            typed.issuer
        )));
        let keys = metadata.jwks().keys().len();
        checks.push(match keys {
            0 => Check::failed(
                "The provider publishes no signing keys, so no sign-in could be verified.",
                None,
            ),
            1 => Check::passed("The provider publishes 1 signing key."),
            n => Check::passed(format!("The provider publishes {n} signing keys.")),
        });
        let s256 = metadata
            .additional_metadata()
            .code_challenge_methods_supported
            .as_ref()
            .is_some_and(|methods| methods.iter().any(|m| m == "S256"));
        checks.push(if s256 {
            Check::passed("The provider supports PKCE with S256, which Insights uses.")
        } else {
            Check::failed(
                "The provider does not advertise PKCE with S256 (code_challenge_methods_supported), which Insights requires.",
                None,
            )
        });
        checks.push(self.check_client(&metadata, typed, redirect_uri).await);
        ConnectionReport {
            checks,
            not_checked,
        }
    }

    /// Presents the client id and secret to the token endpoint with a code that was never
    /// issued, and reads which error comes back.
    async fn check_client(
        &self,
        metadata: &super::Metadata,
        typed: &Typed,
        redirect_uri: &str,
    ) -> Check {
        if metadata.token_endpoint().is_none() {
            return Check::failed("The provider has no token endpoint.", None);
        }
        let client_id = typed.client_id.trim();
        if client_id.is_empty() {
            return Check::failed("Enter the client id to have it checked.", None);
        }
        let Some(secret) = typed.client_secret.clone().filter(|s| !s.is_empty()) else {
            return Check::failed("Enter the client secret to have it checked.", None);
        };
        let Ok(redirect) = RedirectUrl::new(redirect_uri.to_owned()) else {
            return Check::failed(
                "The redirect URI of this organisation is not a valid URL.",
                None,
            );
        };
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(client_id.to_owned()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect);
        let request = match client.exchange_code(AuthorizationCode::new(PROBE_CODE.to_owned())) {
            Ok(request) => request,
            Err(error) => {
                return Check::failed(
                    "The provider has no token endpoint.",
                    Some(error.to_string()),
                );
            }
        };
        let answer = request
            .set_pkce_verifier(PkceCodeVerifier::new(PROBE_CODE.repeat(2)))
            .request_async(&self.http)
            .await;
        let error = match answer {
            Ok(_) => return Check::passed("The token endpoint accepted the client id and secret."),
            Err(error) => error,
        };
        let detail = Some(describe(&error));
        match &error {
            RequestTokenError::ServerResponse(response) => match response.error() {
                CoreErrorResponseType::InvalidGrant => {
                    Check::passed("The token endpoint accepted the client id and secret.")
                }
                CoreErrorResponseType::InvalidClient => {
                    Check::from_error(&OidcError::ClientRefused(describe(&error)))
                }
                CoreErrorResponseType::UnauthorizedClient => Check::failed(
                    "The provider knows the client but does not allow it to sign people in with an authorization code. Allow the Authorization Code grant for this application at the provider.",
                    detail,
                ),
                other => Check::failed(
                    format!(
                        "The token endpoint answered \"{other}\", so the client id and secret could not be confirmed."
                    ),
                    detail,
                ),
            },
            RequestTokenError::Request(_) => {
                Check::from_error(&OidcError::from_request(&error, OidcError::Exchange))
            }
            _ => Check::failed(
                "The token endpoint's answer could not be read, so the client id and secret could not be confirmed.",
                detail,
            ),
        }
    }
}
