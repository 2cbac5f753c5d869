//! The private PostgreSQL cluster behind the zero-configuration start.

use std::path::PathBuf;

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use local_postgres::{Durability, Error, LocalCluster};

/// Stops whatever cluster runs in the folder and removes it, even when an assertion failed.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(mut cluster) = LocalCluster::open(&self.0.join("postgres"), Durability::Throwaway)
        {
            let _ = cluster.stop();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn connect(url: &str) -> Result<PgConnection, Error> {
    PgConnection::establish(url).map_err(|e| Error(e.to_string()))
}

#[test]
fn cluster_keeps_its_data_across_a_restart_and_attaches_when_running() -> Result<(), Error> {
    let root = std::env::temp_dir().join(format!("insights-cluster-test-{}", std::process::id()));
    std::fs::create_dir_all(&root).map_err(|e| Error(e.to_string()))?;
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| Error(e.to_string()))?;
    let _cleanup = Cleanup(root.clone());
    let data = root.join("postgres");

    let mut first = LocalCluster::open(&data, Durability::Throwaway)?;
    let attached = LocalCluster::open(&data, Durability::Throwaway)?;
    let url = first.database_url("postgres");
    connect(&url)?
        .batch_execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
        .map_err(|e| Error(e.to_string()))?;
    let no_password = format!("postgres://postgres@127.0.0.1:{}/postgres", first.port());
    let wrong_password = format!(
        "postgres://postgres:wrong@127.0.0.1:{}/postgres",
        first.port()
    );
    let refused = connect(&no_password).is_err() && connect(&wrong_password).is_err();
    first.stop()?;
    let mut second = LocalCluster::open(&data, Durability::Throwaway)?;
    let kept = diesel::sql_query("SELECT x FROM kept")
        .execute(&mut connect(&second.database_url("postgres"))?)
        .map_err(|e| Error(e.to_string()))?;
    second.stop()?;

    assert!(first.port() > 0);
    assert!(
        !attached.started_here(),
        "a second open must attach to the running server"
    );
    assert_eq!(attached.port(), first.port());
    assert!(refused, "the cluster must require its password");
    assert_eq!(kept, 1);
    Ok(())
}
