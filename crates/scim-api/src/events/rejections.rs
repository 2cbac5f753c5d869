//! The rejection log: requests to a tenant's SCIM URL refused before they reached the
//! directory are counted in memory per tenant, minute and reason (a mutex and a map: the 401
//! path does no database work for them) and written once a second in one statement, which
//! leaves out tenants that do not exist. The map holds at most [`MAX_KEYS`] entries, so a
//! flood of made-up tenant ids costs bounded memory; beyond it new keys are dropped and counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, DurationRound as _, Utc};
use tenancy::rejections::{self, Rejected};
use tenancy::stored::RejectionReason;
use tenancy::{CrossTenant, Db, TenantId};

/// Entries gathered between two writes, at most.
pub const MAX_KEYS: usize = 10_000;
/// How often the gathered counts are written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// The longest user agent kept.
const MAX_USER_AGENT: usize = 200;

type Key = (TenantId, DateTime<Utc>, RejectionReason);

/// One key's count as gathered. The address stays an address and the user agent is copied only
/// when it changes: a flood of refusals from one client allocates nothing per request.
struct Pending {
    requests: i32,
    last_at: DateTime<Utc>,
    last_address: IpAddr,
    last_user_agent: Option<String>,
}

/// Counts refused requests and writes them in the background.
#[derive(Clone, Default)]
pub struct RejectionLog {
    pending: Arc<Mutex<HashMap<Key, Pending>>>,
    dropped: Arc<AtomicU64>,
}

/// A user agent as kept: without NUL, at most [`MAX_USER_AGENT`] characters.
fn kept_agent(agent: &str) -> String {
    agent
        .chars()
        .filter(|c| *c != '\0')
        .take(MAX_USER_AGENT)
        .collect()
}

/// Whether `agent` is kept as `stored` (without building the kept form).
fn same_agent(stored: Option<&str>, agent: Option<&str>) -> bool {
    match (stored, agent) {
        (None, None) => true,
        (Some(stored), Some(agent)) => {
            agent.len() <= MAX_USER_AGENT && !agent.contains('\0') && stored == agent
        }
        _ => false,
    }
}

impl RejectionLog {
    /// A log written by a background task every second.
    pub fn start(db: Db) -> (Self, tokio::task::JoinHandle<()>) {
        let log = Self::default();
        let writer = log.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(FLUSH_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                writer.flush(&db).await;
            }
        });
        (log, task)
    }

    /// Counts one refused request for `tenant`.
    pub fn record(
        &self,
        tenant: TenantId,
        reason: RejectionReason,
        address: IpAddr,
        user_agent: Option<&str>,
        now: DateTime<Utc>,
    ) {
        let minute = now
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(now);
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        let full = pending.len() >= MAX_KEYS;
        match pending.get_mut(&(tenant, minute, reason)) {
            Some(entry) => {
                entry.requests = entry.requests.saturating_add(1);
                entry.last_at = now;
                entry.last_address = address;
                if !same_agent(entry.last_user_agent.as_deref(), user_agent) {
                    entry.last_user_agent = user_agent.map(kept_agent);
                }
            }
            None if full => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                pending.insert(
                    (tenant, minute, reason),
                    Pending {
                        requests: 1,
                        last_at: now,
                        last_address: address,
                        last_user_agent: user_agent.map(kept_agent),
                    },
                );
            }
        }
    }

    /// Writes what was gathered; on failure the counts are given up (they are a diagnosis,
    /// not a record of work done) and the failure is logged.
    pub async fn flush(&self, db: &Db) {
        let batch: Vec<Rejected> = match self.pending.lock() {
            Ok(mut pending) if !pending.is_empty() => pending
                .drain()
                .map(|((tenant_id, minute, reason), p)| Rejected {
                    tenant_id,
                    minute,
                    reason,
                    requests: p.requests,
                    last_at: p.last_at,
                    last_address: p.last_address.to_string(),
                    last_user_agent: p.last_user_agent,
                })
                .collect(),
            _ => return,
        };
        let count = batch.len();
        let written = db
            .run_across_tenants(CrossTenant::ActivityLog, move |conn| {
                rejections::record_many(conn, &batch)
            })
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, count, "counts of refused SCIM requests could not be stored");
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "refused SCIM requests not counted: too many tenants at once"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_agent_is_copied_only_when_it_changes() {
        assert!(same_agent(
            Some("Okta SCIM Client 1.0.0"),
            Some("Okta SCIM Client 1.0.0")
        ));
        assert!(same_agent(None, None));
        assert!(!same_agent(Some("Okta"), Some("Azure AD")));
        assert!(!same_agent(None, Some("Okta")));
        assert!(
            !same_agent(Some("a\u{0}b"), Some("a\u{0}b")),
            "a NUL is kept without it"
        );
        assert_eq!(kept_agent("a\u{0}b"), "ab");
        let long = "x".repeat(300);
        assert_eq!(kept_agent(&long).len(), MAX_USER_AGENT);
        assert!(!same_agent(Some(&kept_agent(&long)), Some(&long)));
    }
}
