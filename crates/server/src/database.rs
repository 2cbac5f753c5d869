//! Where the database comes from: `DATABASE_URL`, or the private cluster in the data folder.

use anyhow::Context as _;
use local_postgres::{Durability, LocalCluster};
use tenancy::Db;

use crate::settings::Settings;

/// An open database, with the private cluster behind it when there is one.
pub struct Database {
    /// The connection pool.
    pub db: Db,
    /// The embedded cluster, when `DATABASE_URL` was not given.
    pub cluster: Option<LocalCluster>,
}

impl Database {
    /// Opens the configured database (starting the embedded cluster if needed) and applies
    /// pending migrations under an advisory lock.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let (url, cluster) = match &settings.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let data_dir = settings.data_dir.join("postgres");
                let cluster = tokio::task::spawn_blocking(move || {
                    LocalCluster::open(&data_dir, Durability::Durable)
                })
                .await
                .context("starting the embedded PostgreSQL")??;
                (cluster.database_url("postgres"), Some(cluster))
            }
        };
        let db = settings.db(&url);
        let applied = db.migrate().await.map_err(|e| match e {
            tenancy::Error::Unavailable => {
                anyhow::anyhow!("cannot connect to the database (check DATABASE_URL)")
            }
            other => anyhow::anyhow!("cannot migrate the database: {other}"),
        })?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        db.check_row_security()
            .await
            .map_err(|e| match e {
                tenancy::Error::Unavailable => {
                    anyhow::anyhow!("cannot connect to the database (check DATABASE_URL)")
                }
                other => {
                    let cause = std::error::Error::source(&other)
                        .map_or_else(|| other.to_string(), ToString::to_string);
                    anyhow::anyhow!(
                        "cannot start tenant work as the role insights_tenant ({cause}); the role the server signs in as must be granted it (GRANT insights_tenant TO <role>)"
                    )
                }
            })?
            .map_err(|reason| anyhow::anyhow!("refusing to start: {reason}"))?;
        Ok(Self { db, cluster })
    }

    /// Stops the embedded cluster if `always` or if this process started it.
    pub async fn close(self, always: bool) {
        if let Some(mut cluster) = self.cluster
            && (always || cluster.started_here())
        {
            let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
            if let Ok(Err(e)) = stopped {
                tracing::warn!(error = %e, "could not stop the embedded PostgreSQL");
            }
        }
    }
}
