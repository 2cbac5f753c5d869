//! The background writer of the events of reads and failures: batched, isolated, retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tenancy::events::{self, NewEvent};
use tenancy::{CrossTenant, Db};
use tokio::sync::mpsc;

/// Events waiting for the writer before new ones are dropped (reads only; writes never queue).
const QUEUE_CAPACITY: usize = 16_384;
/// Rows per INSERT at most.
const BATCH_SIZE: usize = 512;
/// How long a batch is retried while the database is unavailable, and how often.
pub const RETRY_FOR: Duration = Duration::from_secs(60);
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// The background writer of events that are not written with their data.
#[derive(Clone)]
pub struct EventSink {
    sender: mpsc::Sender<NewEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventSink {
    /// Starts the writer on the current tokio runtime. It stops, after writing what is queued,
    /// when every sink handle has been dropped.
    pub fn start(db: Db) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let dropped = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(write_events(db, receiver, dropped.clone()));
        (Self { sender, dropped }, task)
    }

    /// Queues an event; if the queue is full the event is dropped with a warning.
    pub fn record(&self, event: NewEvent) {
        if self.sender.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "provisioning event queue is full; an event of a read or failed request was dropped"
            );
        }
    }

    /// Events given up since start: the queue was full, the database refused an event even
    /// after it was made storable, or stayed away for longer than [`RETRY_FOR`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_events(db: Db, mut receiver: mpsc::Receiver<NewEvent>, dropped: Arc<AtomicU64>) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    while receiver.recv_many(&mut batch, BATCH_SIZE).await > 0 {
        // Let a burst gather for a moment: one INSERT of many rows costs about as much as one.
        if batch.len() < BATCH_SIZE {
            tokio::time::sleep(Duration::from_millis(5)).await;
            while batch.len() < BATCH_SIZE {
                match receiver.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
        }
        let lost = write_batch(&db, std::mem::take(&mut batch)).await;
        dropped.fetch_add(lost, Ordering::Relaxed);
    }
}

/// Writes one batch and returns how many of its events were given up. While the database is
/// unavailable the batch is retried (new events queue meanwhile); a batch it refuses is written
/// event by event, so that an event it cannot store is the only one lost.
async fn write_batch(db: &Db, rows: Vec<NewEvent>) -> u64 {
    let count = rows.len();
    let rows = Arc::new(rows);
    let started = Instant::now();
    loop {
        let batch = rows.clone();
        match db
            .run_across_tenants(CrossTenant::ActivityLog, move |conn| {
                events::insert_many(conn, &batch)
            })
            .await
        {
            Ok(_) => return 0,
            Err(tenancy::Error::Unavailable) if started.elapsed() < RETRY_FOR => {
                tokio::time::sleep(RETRY_EVERY).await;
            }
            Err(tenancy::Error::Unavailable) => {
                tracing::error!(
                    count,
                    "the database stayed unavailable; provisioning events were dropped"
                );
                return u64::try_from(count).unwrap_or(u64::MAX);
            }
            Err(error) => {
                tracing::warn!(error = ?error, count, "a batch of provisioning events was refused; writing them one by one");
                break;
            }
        }
    }
    let rows = Arc::try_unwrap(rows).unwrap_or_else(|shared| (*shared).clone());
    let mut lost = 0;
    for event in rows {
        let path = event.path.clone();
        let result = db
            .run_across_tenants(CrossTenant::ActivityLog, move |conn| {
                events::insert_many(conn, std::slice::from_ref(&event))
            })
            .await;
        if let Err(error) = result {
            lost += 1;
            tracing::error!(error = ?error, %path, "a provisioning event could not be stored and was dropped");
        }
    }
    lost
}
