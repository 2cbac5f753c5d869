//! Keeping count: which probes fit the run's limits (wrong tokens, failed sign-ins), and what the run answered, by kind and status.

use super::*;

/// Whether the client sends the target where it was aimed (dot segments can lift a path out
/// of the SCIM base) and the server's HTTP layer will route it.
pub(crate) fn fits(probe: &Probe, targets: &Targets) -> bool {
    if probe.target.len() > MAX_TARGET {
        return false;
    }
    let Ok(url) = reqwest::Url::parse(&format!("http://127.0.0.1{}", probe.target)) else {
        return false;
    };
    let path = url.path();
    match probe.sender {
        Sender::Scim => path == targets.scim || path.starts_with(&format!("{}/", targets.scim)),
        Sender::Console | Sender::Settings | Sender::SignIn => path.starts_with("/console"),
    }
}

/// Keeps requests the server throttles under its quotas, so that the rest of the run is not
/// answered 429.
pub(crate) struct Budget {
    pub(crate) auth_failures: usize,
    pub(crate) sign_ins: usize,
}

impl Budget {
    /// Whether to send `probe`; past the quota a bad token becomes the good one.
    pub(crate) fn admit(&mut self, probe: &mut Probe) -> bool {
        if probe.sender == Sender::Scim && !matches!(probe.auth, Auth::Token) {
            if self.auth_failures == 0 {
                probe.auth = Auth::Token;
            } else {
                self.auth_failures -= 1;
            }
        }
        if probe.sender == Sender::SignIn {
            if self.sign_ins == 0 {
                return false;
            }
            self.sign_ins -= 1;
        }
        true
    }
}

/// What the run saw: failures and the statuses per kind of request.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) failures: Vec<String>,
    pub(crate) unshown: usize,
    /// The first few 503 answers (with `Retry-After`), shown in the summary.
    pub(crate) busy: Vec<String>,
    pub(crate) statuses: BTreeMap<Kind, BTreeMap<u16, usize>>,
}

impl Outcome {
    /// Waits for one request in flight and records it.
    pub(crate) async fn settle(
        &mut self,
        in_flight: &mut JoinSet<(Probe, Result<Answer, String>)>,
    ) {
        match in_flight.join_next().await {
            Some(Ok((probe, answer))) => self.record(&probe, answer),
            Some(Err(e)) => self.fail(format!("a request task failed: {e}")),
            None => {}
        }
    }

    /// Counts the answer and checks it.
    pub(crate) fn record(&mut self, probe: &Probe, answer: Result<Answer, String>) {
        let status = answer.as_ref().map_or(0, |a| a.status);
        *self
            .statuses
            .entry(probe.kind)
            .or_default()
            .entry(status)
            .or_default() += 1;
        match answer {
            Ok(answer) => {
                if answer.status == 503 && self.busy.len() < 3 {
                    self.busy
                        .push(format!("  request:  {probe}\n  response: {answer}"));
                }
                if let Err(problem) = check(probe, &answer) {
                    self.fail(format!(
                        "{problem}\n  request:  {probe}\n  response: {answer}"
                    ));
                }
            }
            Err(problem) => self.fail(format!("{problem}\n  request:  {probe}")),
        }
    }

    /// Keeps the first failures in full and counts the rest.
    pub(crate) fn fail(&mut self, message: String) {
        if self.failures.len() < SHOWN_FAILURES {
            self.failures.push(message);
        } else {
            self.unshown += 1;
        }
    }

    /// Kinds of request that never succeeded or never failed: the generator (or the
    /// arrangement) has stopped reaching the code behind them.
    pub(crate) fn coverage_gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        for kind in [
            Kind::Filter,
            Kind::Search,
            Kind::Patch,
            Kind::Resource,
            Kind::OddPath,
            Kind::Console,
            Kind::Secret,
        ] {
            let statuses = self.statuses.get(&kind).cloned().unwrap_or_default();
            let ok = statuses.keys().any(|s| (200..400).contains(s));
            // A password is accepted (and dropped) wherever it is well placed.
            let refused = kind == Kind::Secret || statuses.keys().any(|s| *s >= 400);
            if !ok || !refused {
                gaps.push(format!(
                    "{kind:?} requests were not both accepted and refused: {statuses:?}"
                ));
            }
        }
        gaps
    }

    /// Statuses per kind, and the first 503 answers.
    pub(crate) fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .statuses
            .iter()
            .map(|(kind, statuses)| {
                let total: usize = statuses.values().sum();
                format!("  {kind:?}: {total} {statuses:?}")
            })
            .collect();
        if !self.busy.is_empty() {
            lines.push(format!("503 answers (first {}):", self.busy.len()));
            lines.extend(self.busy.iter().cloned());
        }
        lines.join("\n")
    }
}
