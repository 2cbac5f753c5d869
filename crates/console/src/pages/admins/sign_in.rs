//! The Admins page's **Console sign-in** section (owners): sign-in through the identity
//! provider, passwords for owners only, two-step sign-in required; the groups that grant each
//! role; and resetting another admin's two-step sign-in.

use actix_web::web;
use serde::Deserialize;
use tenancy::Db;
use tenancy::admins::provider::ConsolePolicy;
use tenancy::stored::{AdminRole, AuthType, PasswordSignIn};

use super::service::{self, Outcome};
use super::{PAGE, id, role};
use crate::error::ConsoleError;
use crate::form::{CsrfForm, EmptyForm};
use crate::page::Page;

/// The policy form. An unticked box is not sent.
#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    provider_sign_in: Option<String>,
    password_sign_in: String,
    #[serde(default)]
    mfa_required: Option<String>,
}

/// POST /console/admins/sign-in
pub async fn save_policy(
    submitted: CsrfForm<PolicyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let password_sign_in = PasswordSignIn::parse(&form.password_sign_in).ok_or_else(|| {
        ConsoleError::BadRequest("Choose who may sign in with a password.".into())
    })?;
    let policy = ConsolePolicy {
        provider_sign_in: form.provider_sign_in.is_some(),
        password_sign_in,
        mfa_required: form.mfa_required.is_some(),
    };
    let provider_ready =
        console.tenant.auth_type() == AuthType::OpenId && console.tenant.oidc_issuer.is_some();
    if policy.provider_sign_in && !provider_ready {
        return Ok(Page::see_other(PAGE).flash(
            "Sign-in through the identity provider needs the organisation's OpenID sign-in settings first (Sign-in settings).",
        ));
    }
    if policy.password_sign_in == PasswordSignIn::Owners && !policy.provider_sign_in {
        return Ok(Page::see_other(PAGE).flash(
            "Keeping passwords for owners only needs sign-in through the identity provider turned on, or the other admins could not sign in at all.",
        ));
    }
    let message = match service::set_policy(&db, console.tenant.id, policy, console.actor()).await?
    {
        Outcome::Done(()) => "Console sign-in was saved.".to_owned(),
        Outcome::Refused(message) => message,
    };
    Ok(Page::see_other(PAGE).flash(&message))
}

/// The form that lets a group grant a role.
#[derive(Debug, Deserialize)]
pub struct GrantForm {
    group: String,
    role: String,
}

/// POST /console/admins/groups
pub async fn grant(
    submitted: CsrfForm<GrantForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let role: AdminRole = role(&form.role)?;
    let message =
        match service::grant(&db, console.tenant.id, form.group, role, console.actor()).await? {
            Outcome::Done(granted) => format!(
                "Members of {} now sign in to the console as {}.",
                granted.group_name,
                granted.role.label()
            ),
            Outcome::Refused(message) => message,
        };
    Ok(Page::see_other(PAGE).flash(&message))
}

/// POST /console/admins/groups/{id}/remove
pub async fn withdraw(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let removed =
        service::withdraw_grant(&db, console.tenant.id, id(&path)?, console.actor()).await?;
    let Some(removed) = removed else {
        return Err(ConsoleError::NotFound);
    };
    Ok(Page::see_other(PAGE).flash(&format!(
        "{} no longer grants a console role; its members lose it on their next request.",
        removed.group_name
    )))
}

/// POST /console/admins/{id}/mfa/reset
pub async fn reset_mfa(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let admin = service::reset_mfa(&db, console.tenant.id, id(&path)?, console.actor()).await?;
    Ok(Page::see_other(PAGE).flash(&format!(
        "Two-step sign-in of {} was turned off; they can set it up again.",
        admin.email
    )))
}
