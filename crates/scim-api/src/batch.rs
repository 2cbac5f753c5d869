//! Adaptive batching of one kind of database work per tenant: a request that finds no batch of
//! its tenant running starts one at once (no waiting at all when there is no queue); requests
//! that arrive while a batch runs wait for it and are done together in the next one, at most
//! [`MAX_BATCH`] at a time. One tenant's batch never carries another tenant's requests, and
//! every request is answered only once its batch's database work has finished.
//!
//! A request that runs alone runs in its own task (no hop at concurrency 1); the batches of
//! those that waited run in a task of their own, handed over when the lone request is done or
//! dropped, so that a client that goes away cannot strand the requests waiting behind it.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tenancy::TenantId;
use tokio::sync::oneshot;

use crate::error::ScimError;

/// The most requests one batch carries.
pub const MAX_BATCH: usize = 64;

/// The work of one batch: the tenant and its requests, to one answer per request, in order.
pub type Work<Req, Resp> = Arc<
    dyn Fn(TenantId, Vec<Req>) -> Pin<Box<dyn Future<Output = Result<Vec<Resp>, ScimError>> + Send>>
        + Send
        + Sync,
>;

/// A request waiting for its batch, with where its answer goes.
type Waiting<Req, Resp> = (Req, oneshot::Sender<Result<Resp, ScimError>>);

/// One tenant's queue; present while a batch of the tenant runs.
struct Queue<Req, Resp> {
    waiting: VecDeque<Waiting<Req, Resp>>,
}

/// How much batching happened, for the operator and the benchmark.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    batches: AtomicU64,
    largest: AtomicU64,
}

/// A copy of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Requests done.
    pub requests: u64,
    /// Batches they were done in.
    pub batches: u64,
    /// The largest batch.
    pub largest: u64,
}

/// Hands the tenant's waiting requests over when the request that ran alone is done or
/// dropped.
struct Handover<Req: Send + 'static, Resp: Send + 'static> {
    batcher: Arc<Batcher<Req, Resp>>,
    tenant: TenantId,
}

impl<Req: Send + 'static, Resp: Send + 'static> Drop for Handover<Req, Resp> {
    fn drop(&mut self) {
        self.batcher.hand_over(self.tenant);
    }
}

/// Batches one kind of work (see the module's documentation).
pub struct Batcher<Req, Resp> {
    queues: Mutex<HashMap<TenantId, Queue<Req, Resp>>>,
    work: Work<Req, Resp>,
    counters: Counters,
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// A batcher doing `work`.
    pub fn new(work: Work<Req, Resp>) -> Arc<Self> {
        Arc::new(Self {
            queues: Mutex::default(),
            work,
            counters: Counters::default(),
        })
    }

    /// Does `request` for `tenant`, in a batch with the requests of the tenant that wait
    /// alongside it; its own answer. A request that finds no batch of its tenant running does
    /// its work at once, in its own task, as a batch of one.
    pub async fn submit(
        self: &Arc<Self>,
        tenant: TenantId,
        request: Req,
    ) -> Result<Resp, ScimError> {
        let (answer, answered) = oneshot::channel();
        let waits = {
            let Ok(mut queues) = self.queues.lock() else {
                return Err(ScimError::internal());
            };
            match queues.get_mut(&tenant) {
                Some(queue) => {
                    queue.waiting.push_back((request, answer));
                    None
                }
                None => {
                    queues.insert(
                        tenant,
                        Queue {
                            waiting: VecDeque::new(),
                        },
                    );
                    Some(request)
                }
            }
        };
        let Some(request) = waits else {
            // A batch that could not answer (its task ended) is a failure, never a hang.
            return answered
                .await
                .unwrap_or_else(|_| Err(ScimError::unavailable()));
        };
        // Whatever happens to this request (answered, or dropped because its client went
        // away), the requests that queued meanwhile are handed to a batch of their own.
        let _handover = Handover {
            batcher: Arc::clone(self),
            tenant,
        };
        let done = (self.work)(tenant, vec![request]).await;
        self.count(1);
        done.and_then(|mut answers| match (answers.pop(), answers.is_empty()) {
            (Some(answer), true) => Ok(answer),
            _ => Err(ScimError::internal()),
        })
    }

    /// Runs the tenant's batches while requests wait, then lets the next request start anew.
    async fn drain(&self, tenant: TenantId) {
        loop {
            let batch: Vec<Waiting<Req, Resp>> = {
                let Ok(mut queues) = self.queues.lock() else {
                    return;
                };
                let Some(queue) = queues.get_mut(&tenant) else {
                    return;
                };
                if queue.waiting.is_empty() {
                    queues.remove(&tenant);
                    return;
                }
                let take = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..take).collect()
            };
            let size = batch.len();
            let (requests, answers): (Vec<Req>, Vec<_>) = batch.into_iter().unzip();
            let done = (self.work)(tenant, requests).await;
            self.count(size);
            match done {
                Ok(results) if results.len() == answers.len() => {
                    for (answer, result) in answers.into_iter().zip(results) {
                        // The requester may have gone away: nothing to answer then.
                        let _ = answer.send(Ok(result));
                    }
                }
                Ok(results) => {
                    tracing::error!(
                        expected = answers.len(),
                        got = results.len(),
                        "a batch answered the wrong number of requests"
                    );
                    for answer in answers {
                        let _ = answer.send(Err(ScimError::internal()));
                    }
                }
                Err(error) => {
                    for answer in answers {
                        let _ = answer.send(Err(error.clone()));
                    }
                }
            }
        }
    }

    /// After a batch of one: the tenant's queue goes when nobody waits, else a task runs the
    /// waiting requests' batches.
    fn hand_over(self: &Arc<Self>, tenant: TenantId) {
        let Ok(mut queues) = self.queues.lock() else {
            return;
        };
        let nobody_waits = queues.get(&tenant).is_none_or(|q| q.waiting.is_empty());
        if nobody_waits {
            queues.remove(&tenant);
            return;
        }
        drop(queues);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let batcher = Arc::clone(self);
                runtime.spawn(async move { batcher.drain(tenant).await });
            }
            // Shutting down: the waiting requests are answered 503 as their answers drop.
            Err(_) => {
                if let Ok(mut queues) = self.queues.lock() {
                    queues.remove(&tenant);
                }
            }
        }
    }

    fn count(&self, size: usize) {
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        self.counters.requests.fetch_add(size, Ordering::Relaxed);
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters.largest.fetch_max(size, Ordering::Relaxed);
    }

    /// How much batching happened so far.
    pub fn figures(&self) -> Figures {
        Figures {
            requests: self.counters.requests.load(Ordering::Relaxed),
            batches: self.counters.batches.load(Ordering::Relaxed),
            largest: self.counters.largest.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The batches a test's work saw: each one's tenant and requests.
    type Seen = Arc<Mutex<Vec<(TenantId, Vec<u32>)>>>;

    /// Work that records each batch (tenant and requests) and answers each request doubled,
    /// after `delay`.
    fn recording(delay: Duration) -> (Work<u32, u32>, Seen) {
        let seen: Seen = Arc::default();
        let log = Arc::clone(&seen);
        let work: Work<u32, u32> = Arc::new(move |tenant, requests: Vec<u32>| {
            let log = Arc::clone(&log);
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut log) = log.lock() {
                    log.push((tenant, requests.clone()));
                }
                Ok(requests.into_iter().map(|r| r * 2).collect())
            })
        });
        (work, seen)
    }

    #[tokio::test]
    async fn a_single_request_runs_at_once_alone() {
        let (work, seen) = recording(Duration::ZERO);
        let batcher = Batcher::new(work);
        let tenant = TenantId::new_random();
        let started = std::time::Instant::now();
        assert_eq!(batcher.submit(tenant, 21).await, Ok(42));
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(
            seen.lock().map(|s| s.clone()).unwrap_or_default(),
            [(tenant, vec![21])]
        );
        assert_eq!(
            batcher.figures(),
            Figures {
                requests: 1,
                batches: 1,
                largest: 1
            }
        );
    }

    #[tokio::test]
    async fn requests_arriving_during_a_batch_go_together_into_the_next_per_tenant() {
        let (work, seen) = recording(Duration::from_millis(100));
        let batcher = Batcher::new(work);
        let (a, b) = (TenantId::new_random(), TenantId::new_random());
        let first = tokio::spawn({
            let batcher = Arc::clone(&batcher);
            async move { batcher.submit(a, 1).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut later = Vec::new();
        for (tenant, n) in [(a, 2), (b, 3), (a, 4), (b, 5), (a, 6)] {
            let batcher = Arc::clone(&batcher);
            later.push(tokio::spawn(async move { batcher.submit(tenant, n).await }));
        }
        assert_eq!(first.await.ok(), Some(Ok(2)));
        let mut answers = Vec::new();
        for handle in later {
            answers.push(handle.await.ok());
        }
        assert_eq!(
            answers,
            [
                Some(Ok(4)),
                Some(Ok(6)),
                Some(Ok(8)),
                Some(Ok(10)),
                Some(Ok(12))
            ]
        );
        let batches = seen.lock().map(|s| s.clone()).unwrap_or_default();
        let of = |tenant: TenantId| -> Vec<Vec<u32>> {
            batches
                .iter()
                .filter(|(t, _)| *t == tenant)
                .map(|(_, requests)| requests.clone())
                .collect()
        };
        // a's requests waited for its running batch and went together; b's found no batch of
        // b running and started at once (in one or two batches, as they happened to arrive).
        assert_eq!(of(a), [vec![1], vec![2, 4, 6]]);
        assert_eq!(of(b).concat(), [3, 5]);
        assert_eq!(of(a).len() + of(b).len(), batches.len());
    }

    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_requests_and_the_next_starts_afresh() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let work: Work<u32, u32> = Arc::new(move |_, requests: Vec<u32>| {
            let call = counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if call == 0 {
                    Err(ScimError::unavailable())
                } else {
                    Ok(requests)
                }
            })
        });
        let batcher = Batcher::new(work);
        let tenant = TenantId::new_random();
        let mut handles = Vec::new();
        for n in 0..3 {
            let batcher = Arc::clone(&batcher);
            handles.push(tokio::spawn(async move { batcher.submit(tenant, n).await }));
        }
        let mut failed = 0;
        for handle in handles {
            match handle.await.ok() {
                Some(Err(error)) => {
                    assert_eq!(error, ScimError::unavailable());
                    failed += 1;
                }
                Some(Ok(_)) => {}
                None => panic!("a request was not answered"),
            }
        }
        assert!(failed >= 1, "the first batch failed");
        assert_eq!(batcher.submit(tenant, 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_requester_that_goes_away_strands_no_one() {
        let (work, _) = recording(Duration::from_millis(50));
        let batcher = Batcher::new(work);
        let tenant = TenantId::new_random();
        let gone = tokio::spawn({
            let batcher = Arc::clone(&batcher);
            async move { batcher.submit(tenant, 1).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        gone.abort();
        let waiting = {
            let batcher = Arc::clone(&batcher);
            tokio::spawn(async move { batcher.submit(tenant, 2).await })
        };
        assert_eq!(waiting.await.ok(), Some(Ok(4)));
        assert_eq!(batcher.submit(tenant, 3).await, Ok(6));
    }
}
