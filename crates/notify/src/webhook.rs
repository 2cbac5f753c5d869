//! Delivering one webhook: a signed POST with the Standard Webhooks headers and a timeout.

use std::time::Duration;

use crate::signature;

/// How long an endpoint has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// POSTs `body` to `url`, signed with `secret` as message `id` at `timestamp` (Unix seconds).
/// `Ok(status)` for a 2xx answer; otherwise the status (if any) and what went wrong.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<i32, (Option<i32>, String)> {
    let signature = signature::sign(secret, id, timestamp, body).ok_or((
        None,
        "the endpoint's signing secret is not valid".to_owned(),
    ))?;
    let answer = client
        .post(url)
        .timeout(TIMEOUT)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = i32::from(response.status().as_u16());
            if response.status().is_success() {
                Ok(status)
            } else {
                Err((Some(status), format!("the endpoint answered {status}")))
            }
        }
        Err(error) if error.is_timeout() => Err((
            None,
            format!("the endpoint did not answer within {} s", TIMEOUT.as_secs()),
        )),
        Err(error) if error.is_connect() => {
            Err((None, "the endpoint could not be reached".to_owned()))
        }
        Err(_) => Err((None, "the request to the endpoint failed".to_owned())),
    }
}
