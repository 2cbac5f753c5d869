//! The zero-configuration start: `insights serve` with no DATABASE_URL runs its own PostgreSQL,
//! prints the demo credentials once, stops it on SIGTERM and keeps the data for the next start.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `insights serve` on a free port with its data in `data_dir`; returns the child and
/// everything it printed up to "Press Ctrl-C".
fn start_serve(data_dir: &Path, port: u16) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_insights"))
        .env_remove("DATABASE_URL")
        .env("INSIGHTS_DATA_DIR", data_dir)
        .env("INSIGHTS_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start insights: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| unreachable!());
    let mut banner = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap_or_default();
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    (child, banner)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Whether a postgres server process for this data folder is running.
fn postgres_running(data_dir: &Path) -> bool {
    let pid_file = data_dir.join("postgres").join("postmaster.pid");
    let Ok(contents) = std::fs::read_to_string(pid_file) else {
        return false;
    };
    contents
        .lines()
        .next()
        .is_some_and(|pid| Path::new(&format!("/proc/{}", pid.trim())).exists())
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("insights did not stop within 30 s of SIGTERM");
}

async fn readyz(port: u16) -> u16 {
    match reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test]
async fn serve_without_database_url_runs_and_stops_its_own_postgres() {
    let root = std::env::temp_dir().join(format!("insights-embedded-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();

    let (mut first, first_banner) = start_serve(&root, port);
    let first_ready = readyz(port).await;
    let running_while_served = postgres_running(&root);
    stop(&mut first);
    let left_behind = postgres_running(&root);
    let (mut second, second_banner) = start_serve(&root, port);
    let second_ready = readyz(port).await;
    stop(&mut second);
    let left_behind_again = postgres_running(&root);
    let _ = std::fs::remove_dir_all(&root);

    assert!(
        first_banner.contains("one-time password:"),
        "first start prints demo credentials:\n{first_banner}"
    );
    assert!(first_banner.contains("admin@demo.example"));
    assert_eq!(first_ready, 200);
    assert!(running_while_served);
    assert!(!left_behind, "SIGTERM must stop the embedded postgres");
    assert!(
        !second_banner.contains("one-time password"),
        "the demo tenant is kept, not created again"
    );
    assert_eq!(second_ready, 200);
    assert!(!left_behind_again);
}
