//! Admins (owners only): the tenant's admins with their roles, **Invite** by e-mail (a link
//! valid seven days, shown once to copy and mailed when e-mail is configured), **Change role**,
//! **Remove** (their sessions end at once) and the pending invitations with **Withdraw**.

mod service;
pub mod sign_in;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::admins::provider::{ConsolePolicy, GroupRole};
use tenancy::stored::{AdminRole, AuthType, PasswordSignIn};
use tenancy::{Db, Deployment};

pub use self::service::{AdminsState, Outcome, invite as invite_admin, load};
use crate::error::ConsoleError;
use crate::form::{CsrfForm, EmptyForm};
use crate::layout::{Layout, date};
use crate::page::Page;
use crate::pages::provider_sign_in;
use crate::session::Console;

/// The page.
pub const PAGE: &str = "/console/admins";

/// One admin as listed.
struct AdminLine {
    id: String,
    email: String,
    role: AdminRole,
    added: String,
    is_you: bool,
    must_change_password: bool,
    /// Signs in through the identity provider (the role comes from their groups).
    provider: bool,
    has_mfa: bool,
}

/// The Console sign-in section.
struct SignInSection {
    policy: ConsolePolicy,
    /// The tenant has OpenID settings, so its provider can sign admins in.
    provider_ready: bool,
    /// The address admins sign in at through the provider.
    sign_in_url: String,
    /// The redirect URI to register at the provider.
    redirect_uri: String,
    group_roles: Vec<GroupRole>,
}

/// One pending invitation as listed.
struct InvitationLine {
    id: String,
    email: String,
    role: &'static str,
    invited_by: String,
    expires: String,
}

/// A link just created, shown once.
struct IssuedLink {
    email: String,
    link: String,
    expires: String,
    mailed: Option<Result<(), String>>,
}

/// The page.
#[derive(Template)]
#[template(path = "admins/list.html")]
struct AdminsPage {
    layout: Layout,
    admins: Vec<AdminLine>,
    invitations: Vec<InvitationLine>,
    roles: &'static [AdminRole],
    issued: Option<IssuedLink>,
    invite_email: String,
    invite_role: AdminRole,
    invite_error: Option<String>,
    sign_in: SignInSection,
    owners_only: PasswordSignIn,
}

fn render(
    console: &Console,
    deployment: &Deployment,
    state: AdminsState,
    issued: Option<IssuedLink>,
    invite: (String, AdminRole, Option<String>),
) -> Result<Page, ConsoleError> {
    let admins = state
        .admins
        .into_iter()
        .map(|admin| AdminLine {
            id: admin.id.to_string(),
            is_you: admin.id == console.admin.id,
            provider: admin.signs_in_with_provider(),
            has_mfa: admin.has_mfa(),
            email: admin.email,
            role: admin.role,
            added: date(admin.created_at),
            must_change_password: admin.must_change_password,
        })
        .collect();
    let invitations = state
        .invitations
        .into_iter()
        .map(|invitation| InvitationLine {
            id: invitation.id.to_string(),
            email: invitation.email,
            role: invitation.role.label(),
            invited_by: invitation.invited_by,
            expires: date(invitation.expires_at),
        })
        .collect();
    let (invite_email, invite_role, invite_error) = invite;
    let tenant = &console.tenant;
    let sign_in = SignInSection {
        policy: ConsolePolicy::of(tenant),
        provider_ready: tenant.auth_type() == AuthType::OpenId && tenant.oidc_issuer.is_some(),
        sign_in_url: format!(
            "{}{}",
            deployment.public_url,
            provider_sign_in::sign_in_path(tenant.id)
        ),
        redirect_uri: provider_sign_in::redirect_uri(deployment, tenant.id),
        group_roles: state.group_roles,
    };
    Page::ok(&AdminsPage {
        layout: Layout::new(console, "admins", "Admins"),
        admins,
        invitations,
        roles: AdminRole::ALL,
        issued,
        invite_email,
        invite_role,
        invite_error,
        sign_in,
        owners_only: PasswordSignIn::Owners,
    })
}

/// GET /console/admins
pub async fn show_admins(
    console: Console,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let state = load(&db, console.tenant.id, Utc::now()).await?;
    render(
        &console,
        &deployment,
        state,
        None,
        (String::new(), AdminRole::Admin, None),
    )
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

/// The role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

pub(super) fn role(text: &str) -> Result<AdminRole, ConsoleError> {
    AdminRole::parse(text)
        .ok_or_else(|| ConsoleError::BadRequest("Choose Owner, Admin or Viewer.".into()))
}

/// POST /console/admins/invite: the page again with the link shown once (not a redirect,
/// which would have to carry the link).
pub async fn invite(
    submitted: CsrfForm<InviteForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    notifier: Option<web::Data<notify::Notifier>>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let role = role(&form.role)?;
    let tenant = console.tenant.id;
    let email = form.email.trim().to_owned();
    let outcome = invite_admin(&db, tenant, email.clone(), role, console.actor()).await?;
    let state = load(&db, tenant, Utc::now()).await?;
    match outcome {
        Outcome::Refused(message) => Ok(render(
            &console,
            &deployment,
            state,
            None,
            (email, role, Some(message)),
        )?
        .with_status(StatusCode::BAD_REQUEST)),
        Outcome::Done((invitation, token)) => {
            let link = format!(
                "{}/console/invitations/{token}",
                deployment.public_url.trim_end_matches('/')
            );
            let expires = date(invitation.expires_at);
            let mailed = match &notifier {
                Some(notifier) => {
                    let mail = notify::message::InvitationMail {
                        organisation: &console.tenant.name,
                        invited_by: &console.admin.email,
                        role: role.label(),
                        link: &link,
                        expires: &expires,
                    };
                    match notifier.send_invitation(&invitation.email, &mail).await {
                        Ok(true) => Some(Ok(())),
                        Ok(false) => None,
                        Err(error) => {
                            tracing::warn!(tenant_id = %tenant, %error, "an invitation could not be mailed");
                            Some(Err(error))
                        }
                    }
                }
                None => None,
            };
            let issued = IssuedLink {
                email: invitation.email,
                link,
                expires,
                mailed,
            };
            render(
                &console,
                &deployment,
                state,
                Some(issued),
                (String::new(), AdminRole::Admin, None),
            )
        }
    }
}

pub(super) fn id<T: std::str::FromStr>(path: &str) -> Result<T, ConsoleError> {
    path.parse().map_err(|_| ConsoleError::NotFound)
}

/// POST /console/admins/{id}/role
pub async fn set_role(
    path: web::Path<String>,
    submitted: CsrfForm<RoleForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let (admin, role) = (id(&path)?, role(&form.role)?);
    let message =
        match service::set_role(&db, console.tenant.id, admin, role, console.actor()).await? {
            Outcome::Done(row) => format!("{} is now {}.", row.email, row.role.label()),
            Outcome::Refused(message) => message,
        };
    Ok(Page::see_other(PAGE).flash(&message))
}

/// POST /console/admins/{id}/remove
pub async fn remove(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let admin = id(&path)?;
    if admin == console.admin.id {
        return Ok(Page::see_other(PAGE)
            .flash("You cannot remove yourself. Another owner can remove you."));
    }
    let message = match service::remove(&db, console.tenant.id, admin, console.actor()).await? {
        Outcome::Done(row) if row.signs_in_with_provider() => format!(
            "{} was signed out. They sign in through the identity provider: while a group gives them a role they can sign in again, so take them out of the group to end their access.",
            row.email
        ),
        Outcome::Done(row) => format!("{} is no longer an admin and was signed out.", row.email),
        Outcome::Refused(message) => message,
    };
    Ok(Page::see_other(PAGE).flash(&message))
}

/// POST /console/admins/invitations/{id}/revoke
pub async fn revoke_invitation(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let row =
        service::revoke_invitation(&db, console.tenant.id, id(&path)?, console.actor()).await?;
    Ok(Page::see_other(PAGE).flash(&format!(
        "The invitation of {} was withdrawn: its link no longer works.",
        row.email
    )))
}
