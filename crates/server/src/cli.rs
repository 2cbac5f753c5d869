//! The `insights` command line.

use clap::{Parser, Subcommand};

use crate::settings::Settings;

/// Insights: SCIM 2.0 provisioning and OpenID Connect sign-in for every tenant.
#[derive(Debug, Parser)]
#[command(name = "insights", version, about)]
pub struct Cli {
    /// Settings shared by every command (also read from the environment).
    #[command(flatten)]
    pub settings: Settings,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage SCIM tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage a tenant's console admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print a new random key for INSIGHTS_SECRET_KEY (64 hex digits).
    SecretKey,
}

/// `insights tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant, optionally with its first admin and OpenID sign-in.
    Create {
        /// The organisation's name.
        #[arg(long)]
        name: String,
        /// Email of the first admin; a one-time password is printed.
        #[arg(long)]
        admin_email: Option<String>,
        /// Enable SCIM provisioning from the start.
        #[arg(long)]
        scim: bool,
        /// OpenID issuer URL (makes OpenID the sign-in type).
        #[arg(long, requires_all = ["openid_client_id", "openid_client_secret"])]
        openid_issuer: Option<String>,
        /// OpenID client id.
        #[arg(long, requires = "openid_issuer")]
        openid_client_id: Option<String>,
        /// OpenID client secret.
        #[arg(long, requires = "openid_issuer")]
        openid_client_secret: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Encrypt every tenant's OpenID client secret with the current INSIGHTS_SECRET_KEY (after
    /// a rotation; the server also does it at start).
    Reseal,
    /// Enable SCIM provisioning for a tenant.
    EnableScim {
        /// The tenant id.
        tenant: String,
    },
    /// Disable SCIM provisioning for a tenant (its tokens stop being accepted).
    DisableScim {
        /// The tenant id.
        tenant: String,
    },
    /// The connection health the tenant's console shows: state, level, message, what to do,
    /// the last request and today's counts.
    Status {
        /// The tenant id.
        tenant: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `insights token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Generate (or regenerate) the tenant's SCIM token, as the console's button does.
    Generate {
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `insights admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add an admin with a one-time password (printed once).
    Add {
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// The admin's e-mail address.
        #[arg(long)]
        email: String,
        /// owner, admin or viewer.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the tenant's admins.
    List {
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove an admin (their sessions end at once; the last owner cannot be removed).
    Remove {
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// The admin's e-mail address.
        #[arg(long)]
        email: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Change an admin's role (the last owner stays owner).
    SetRole {
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// The admin's e-mail address.
        #[arg(long)]
        email: String,
        /// owner, admin or viewer.
        #[arg(long)]
        role: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Turn off an admin's two-step sign-in (a lost phone and lost recovery codes); they can
    /// set it up again after signing in with their password.
    ResetMfa {
        /// The tenant id.
        #[arg(long)]
        tenant: String,
        /// The admin's e-mail address.
        #[arg(long)]
        email: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}
