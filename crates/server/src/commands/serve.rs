//! `insights serve`: start the database, the HTTP server, and stop both cleanly on a signal.

use anyhow::Context as _;
use std::sync::Arc;

use tenancy::bootstrap::{self, DemoTenant};
use tenancy::{CrossTenant, tenants};

use crate::database::Database;
use crate::settings::Settings;
use crate::startup;

/// Runs until Ctrl-C or SIGTERM, then stops the server and the embedded cluster.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = Database::open(&settings).await?;
    let result = run(&settings, &database).await;
    // Whatever happened, the embedded cluster is ours to stop: no postgres is left behind.
    database.close(true).await;
    result
}

async fn run(settings: &Settings, database: &Database) -> anyhow::Result<()> {
    let keys = Arc::new(settings.secret_keys()?);
    let demo_keys = keys.clone();
    let demo = database
        .db
        .run_across_tenants(CrossTenant::Startup, move |conn| {
            bootstrap::create_demo_if_empty(conn, &demo_keys)
        })
        .await
        .context("creating the demo tenant")?;
    // Client secrets in clear (from before encryption at rest) or sealed with a previous key
    // are sealed with the current one.
    let resealed = database
        .db
        .run_across_tenants(CrossTenant::Startup, move |conn| {
            Ok::<_, tenancy::Error>(
                tenants::reseal_client_secrets(conn, &keys)?
                    + tenancy::admins::mfa::reseal_totp_secrets(conn, &keys)?,
            )
        })
        .await
        .context("encrypting the OpenID client secrets")?;
    if resealed > 0 {
        tracing::info!(
            count = resealed,
            "sealed OpenID client secrets and TOTP secrets with the current key"
        );
    }
    let running = startup::spawn(settings, database.db.clone())
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    print_banner(
        &running.deployment.public_url,
        database.cluster.is_some(),
        demo.as_ref(),
    );
    // Imports interrupted by a stop carry on where they were.
    tokio::spawn(console::resume_imports(database.db.clone()));
    // The activity chart's hourly roll-up, on one server at a time.
    let maintenance = tokio::spawn(tenancy::maintenance::run(
        database.db.clone(),
        settings.retention(),
    ));
    // Notifications before provisioning breaks, off every request path.
    if !running.notifier.email_on() {
        tracing::info!("INSIGHTS_SMTP_URL is not set: notifications go to webhooks only");
    }
    let notifications = tokio::spawn(running.notifier.clone().run());
    shutdown_signal().await;
    tracing::info!("shutting down");
    maintenance.abort();
    notifications.abort();
    running.handle.stop(true).await;
    let _ = running.task.await;
    // The workers are gone with their handles on the event queue: let the writer finish it.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), running.event_writer).await;
    Ok(())
}

fn print_banner(public_url: &str, embedded: bool, demo: Option<&DemoTenant>) {
    println!("Insights is listening on {public_url}");
    println!("  console:    {public_url}/console");
    if embedded {
        println!("  database:   embedded PostgreSQL (set DATABASE_URL to use your own)");
    }
    if let Some(demo) = demo {
        println!();
        println!(
            "Created the demo tenant {:?} ({}).",
            demo.tenant.name, demo.tenant.id
        );
        println!("  admin email:        {}", demo.admin.email);
        println!("  one-time password:  {}", demo.one_time_password);
        println!(
            "  (you will choose a new password at first sign-in; this one is not shown again)"
        );
    }
    println!();
    println!("Press Ctrl-C to stop.");
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
