//! OpenID Connect with each tenant's provider (authorization code + PKCE S256), using the
//! `openidconnect` crate: discovery documents and their keys are cached per issuer and fetched
//! again when an ID token is signed with a key we have not seen (the provider rotated keys).
//! The settings page's connection test is in [`connection_test`].

mod connection_test;

pub use self::connection_test::{Check, ConnectionReport, Typed};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndSessionUrl, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope, TokenResponse as _, reqwest,
};
use serde::{Deserialize, Serialize};
use tenancy::sealed::SecretKeys;
use tenancy::tenants::TenantRow;

/// How long a discovery document (with its keys) is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Timeout of every call to a provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Discovery fields beyond the core ones that we use.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RP-initiated logout.
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// PKCE methods the provider accepts; we require S256.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

/// A provider's discovery document.
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Why sign-in with the provider failed. It displays as one plain sentence (what is wrong and
/// what to check) that never carries the HTTP client's error chain; [`OidcError::detail`] has
/// that, for the log and for an admin who expands it.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The tenant has no OpenID settings.
    #[error("This organisation has not set up sign-in with its identity provider.")]
    NotConfigured,
    /// No connection to the provider (refused, unknown host, timed out).
    #[error(
        "The identity provider could not be reached. Check the issuer URL and that the provider is up and reachable from Insights."
    )]
    Unreachable(String),
    /// The provider answered, but its discovery document or keys are unusable.
    #[error(
        "The identity provider's discovery document could not be used. Check that the issuer URL is exactly the provider's issuer."
    )]
    Discovery(String),
    /// The code exchange failed (for example a code used twice).
    #[error("The identity provider did not accept the sign-in.")]
    Exchange(String),
    /// The provider refused the client id or secret (`invalid_client`).
    #[error(
        "The identity provider refused the client id or secret. Check both in Sign-in settings."
    )]
    ClientRefused(String),
    /// The ID token failed verification (signature, issuer, audience, expiry or nonce).
    #[error("The identity provider's answer could not be verified.")]
    Verification(String),
}

impl OidcError {
    /// The technical detail (the HTTP client's error and its causes), for the log and for
    /// admins; never shown to the person signing in.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::NotConfigured => None,
            Self::Unreachable(detail)
            | Self::Discovery(detail)
            | Self::Exchange(detail)
            | Self::ClientRefused(detail)
            | Self::Verification(detail) => Some(detail),
        }
    }

    /// What the person signing in is told: they cannot fix the settings, so they are asked to
    /// try again later or to tell their administrator.
    pub fn for_end_user(&self) -> &'static str {
        match self {
            Self::NotConfigured => {
                "This organisation has not set up sign-in with its identity provider."
            }
            Self::Unreachable(_) => {
                "Your identity provider could not be reached. Try again in a few minutes; if it keeps happening, tell your administrator."
            }
            Self::Discovery(_) | Self::ClientRefused(_) => {
                "Sign-in with your identity provider is not set up correctly. Tell your administrator."
            }
            Self::Exchange(_) => {
                "Your identity provider did not accept the sign-in. Try again; if it keeps happening, tell your administrator."
            }
            Self::Verification(_) => {
                "Your identity provider's answer could not be verified. Try again; if it keeps happening, tell your administrator."
            }
        }
    }

    /// The error of a failed call to the provider: unreachable when no answer came back.
    fn from_request(
        error: &(dyn std::error::Error + 'static),
        answered: fn(String) -> Self,
    ) -> Self {
        let detail = describe(error);
        if unreachable(error) {
            Self::Unreachable(detail)
        } else {
            answered(detail)
        }
    }
}

/// The verified identity from an ID token (and UserInfo when the token lacks names).
#[derive(Debug, Clone)]
pub struct Identity {
    /// `sub`.
    pub subject: String,
    /// `preferred_username` and `email`, to match a userName.
    pub names: Vec<String>,
}

/// A started login: where to send the browser, and what to keep server-side.
#[derive(Debug, Clone)]
pub struct LoginStart {
    /// The provider's authorization URL.
    pub url: String,
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// PKCE code verifier.
    pub pkce_verifier: String,
}

/// Discovery documents by issuer, with when each was fetched.
type MetadataCache = HashMap<String, (Instant, Arc<Metadata>)>;

/// The providers' shared HTTP client and discovery cache.
#[derive(Clone)]
pub struct Oidc {
    http: reqwest::Client,
    cache: Arc<Mutex<MetadataCache>>,
    /// Opens the tenants' sealed client secrets.
    keys: Arc<SecretKeys>,
}

impl Oidc {
    /// A client that never follows redirects (as the OpenID specs ask) and times out, and
    /// opens client secrets with `keys`.
    pub fn new(keys: Arc<SecretKeys>) -> Result<Self, OidcError> {
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        Ok(Self {
            http,
            cache: Arc::default(),
            keys,
        })
    }

    /// The provider's metadata, from the cache unless stale or `refresh`.
    pub async fn metadata(&self, issuer: &str, refresh: bool) -> Result<Arc<Metadata>, OidcError> {
        if !refresh
            && let Ok(cache) = self.cache.lock()
            && let Some((at, metadata)) = cache.get(issuer)
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer_url = IssuerUrl::new(issuer.to_owned())
            .map_err(|e| OidcError::Discovery(format!("the issuer URL is invalid ({e})")))?;
        let metadata = Metadata::discover_async(issuer_url, &self.http)
            .await
            .map_err(|e| OidcError::from_request(&e, OidcError::Discovery))?;
        let metadata = Arc::new(metadata);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(issuer.to_owned(), (Instant::now(), metadata.clone()));
        }
        Ok(metadata)
    }

    /// Starts the authorization-code flow with PKCE for the tenant.
    pub async fn start(
        &self,
        tenant: &TenantRow,
        redirect_uri: &str,
    ) -> Result<LoginStart, OidcError> {
        let (issuer, client_id, secret) = self.settings(tenant)?;
        let metadata = self.metadata(&issuer, false).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(client_id),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|e| OidcError::Discovery(e.to_string()))?,
        );
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(LoginStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code and verifies the ID token (signature, issuer, audience, expiry,
    /// nonce). When the signing key is unknown, the keys are fetched again once.
    pub async fn finish(
        &self,
        tenant: &TenantRow,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, OidcError> {
        let (issuer, client_id, secret) = self.settings(tenant)?;
        let metadata = self.metadata(&issuer, false).await?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OidcError::Exchange(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(client_id.clone()),
            Some(ClientSecret::new(secret.clone())),
        )
        .set_redirect_uri(redirect.clone());
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match &e {
                openidconnect::RequestTokenError::ServerResponse(answer)
                    if *answer.error() == CoreErrorResponseType::InvalidClient =>
                {
                    OidcError::ClientRefused(describe(&e))
                }
                _ => OidcError::from_request(&e, OidcError::Exchange),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Verification("no ID token was returned".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                // Perhaps the provider rotated its keys since we cached them: fetch and retry once.
                let fresh = self.metadata(&issuer, true).await?;
                let client = CoreClient::from_provider_metadata(
                    (*fresh).clone(),
                    ClientId::new(client_id),
                    Some(ClientSecret::new(secret)),
                )
                .set_redirect_uri(redirect);
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| OidcError::Verification(e.to_string()))?
                    .clone()
            }
            Err(e) => return Err(OidcError::Verification(e.to_string())),
        };
        let mut names: Vec<String> = Vec::new();
        if let Some(preferred) = claims.preferred_username() {
            names.push(preferred.to_string());
        }
        if let Some(email) = claims.email() {
            names.push(email.to_string());
        }
        if names.is_empty() {
            // Many providers put names only in UserInfo unless asked otherwise.
            if let Ok(request) = client.user_info(
                response.access_token().clone(),
                Some(claims.subject().clone()),
            ) {
                let info: Result<openidconnect::core::CoreUserInfoClaims, _> =
                    request.request_async(&self.http).await;
                if let Ok(info) = info {
                    names.extend(info.preferred_username().map(|p| p.to_string()));
                    names.extend(info.email().map(|e| e.to_string()));
                }
            }
        }
        Ok(Identity {
            subject: claims.subject().to_string(),
            names,
        })
    }

    /// The provider's end-session URL for RP-initiated logout, when it advertises one.
    pub async fn end_session_url(
        &self,
        tenant: &TenantRow,
        post_logout_redirect: &str,
    ) -> Option<String> {
        let (issuer, client_id, _) = self.settings(tenant).ok()?;
        let metadata = self.metadata(&issuer, false).await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut url = endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", &client_id)
            .append_pair("post_logout_redirect_uri", post_logout_redirect);
        Some(url.to_string())
    }
}

impl Oidc {
    /// The tenant's issuer, client id and client secret (opened).
    fn settings(&self, tenant: &TenantRow) -> Result<(String, String, String), OidcError> {
        let secret = tenant.client_secret(&self.keys).map_err(|error| {
            tracing::error!(tenant_id = %tenant.id, %error, "cannot open the OpenID client secret");
            OidcError::NotConfigured
        })?;
        match (&tenant.oidc_issuer, &tenant.oidc_client_id, secret) {
            (Some(issuer), Some(id), Some(secret)) => Ok((issuer.clone(), id.clone(), secret)),
            _ => Err(OidcError::NotConfigured),
        }
    }

    /// The keys that seal client secrets.
    pub fn keys(&self) -> Arc<SecretKeys> {
        self.keys.clone()
    }
}

/// Whether a failed call got no answer from the provider at all.
fn unreachable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        let http = error
            .downcast_ref::<reqwest::Error>()
            .or_else(|| error.downcast_ref::<Box<reqwest::Error>>().map(|e| &**e));
        if http.is_some_and(|http| http.is_connect() || http.is_timeout()) {
            return true;
        }
        cause = error.source();
    }
    false
}

/// An error with its causes, in one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    if text.contains("unexpected issuer") || text.contains("Validation error") {
        text.push_str(" (the issuer in the discovery document must equal the issuer URL exactly, including a trailing slash)");
    }
    text
}
