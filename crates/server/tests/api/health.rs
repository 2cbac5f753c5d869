//! `/healthz` and `/readyz`.

use server::Settings;
use testkit::TestDb;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_and_readyz_answer_200_with_a_database() {
    let app = spawn_app().await;

    let health = app.get("/healthz").await;
    let ready = app.get("/readyz").await;

    assert_eq!(health.status(), 200);
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_unreachable() {
    // Nothing listens on port 1: the pool cannot connect.
    let settings = Settings::for_tests("postgres://postgres:x@127.0.0.1:1/none?connect_timeout=1");
    let app = spawn_app_with(settings, TestDb::new());

    let health = app.get("/healthz").await;
    let ready = app.get("/readyz").await;

    assert_eq!(
        health.status(),
        200,
        "the process is up even without its database"
    );
    assert_eq!(ready.status(), 503);
}
