//! What a run must not leave behind: panics on server threads, and the marked password anywhere in the database.

use super::*;

/// Panics on threads other than libtest's (server workers, blocking pool, writers).
pub(crate) static PANICS: AtomicUsize = AtomicUsize::new(0);
/// Their thread names and messages.
pub(crate) static PANIC_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
pub(crate) static PANIC_HOOK: Once = Once::new();

/// Counts panics in [`PANICS`], then lets the previous hook print them as usual.
pub(crate) fn install_panic_counter() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("<unnamed>");
            // libtest runs each test on a thread named after it (`module::test`): a failed
            // assertion there belongs to that test, whereas any other thread is the server's.
            if !name.contains("::") && name != "main" {
                PANICS.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut log) = PANIC_LOG.lock() {
                    log.push(format!("{name}: {info}"));
                }
            }
            previous(info);
        }));
    });
}

/// Runs a query whose rows are one `json` column each.
pub(crate) async fn query_json(app: &TestApp, sql: &str) -> Vec<Value> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        json: Value,
    }
    let sql = sql.to_owned();
    app.db()
        .run_across_tenants(tenancy::CrossTenant::Operator, move |conn| {
            diesel::sql_query(sql)
                .load::<Row>(conn)
                .map_err(tenancy::Error::from)
        })
        .await
        .unwrap_or_else(|e| panic!("query failed: {e}"))
        .into_iter()
        .map(|row| row.json)
        .collect()
}

/// The number of logged events once the background writer has caught up (it stops growing),
/// waiting a few seconds at most.
pub(crate) async fn settled_event_count(app: &TestApp) -> u64 {
    let count = || async {
        query_json(
            app,
            "SELECT to_jsonb(count(*)) AS json FROM provisioning_events",
        )
        .await
        .first()
        .and_then(Value::as_u64)
        .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = count().await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = count().await;
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// Rows of the activity log (path, error, payload) and of the users that hold [`SECRET`].
pub(crate) async fn secret_traces(app: &TestApp) -> Vec<Value> {
    query_json(
        app,
        &format!(
            "SELECT jsonb_build_object('event', e.id, 'method', e.method, 'path', e.path, \
                    'error', e.error, 'payload', e.payload) AS json \
             FROM provisioning_events e \
             WHERE strpos(e.path || ' ' || coalesce(e.error, '') || ' ' \
                          || coalesce(e.payload::text, ''), '{SECRET}') > 0 \
             UNION ALL \
             SELECT jsonb_build_object('user', u.id, 'attributes', u.attributes) \
             FROM users u WHERE strpos(to_jsonb(u)::text, '{SECRET}') > 0 \
             LIMIT 10"
        ),
    )
    .await
}
