//! A console admin for the scenarios that go through the console: a tenant created with the
//! operator CLI, its admin signed in with the one-time password replaced, and the forms the
//! scenarios submit (with the session's CSRF token and our own Origin).

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use reqwest::header::{CONTENT_TYPE, ORIGIN};

use crate::stack::Stack;

/// A console admin signed in (one-time password replaced), with its cookies.
#[derive(Clone)]
pub struct Admin {
    /// The client, with the session cookie.
    pub http: reqwest::Client,
    /// `http://host:port`.
    pub base: String,
    /// The admin's tenant.
    pub tenant: String,
}

impl Admin {
    /// Creates a tenant named `name` with the operator CLI and signs its admin `email` in,
    /// replacing the one-time password.
    pub async fn sign_in(stack: &Stack, name: &str, email: &str) -> anyhow::Result<Self> {
        let created = stack.operator(&[
            "tenant",
            "create",
            "--name",
            name,
            "--admin-email",
            email,
            "--json",
        ])?;
        let tenant = created["tenant_id"]
            .as_str()
            .ok_or_else(|| anyhow!("no tenant id in {created}"))?
            .to_owned();
        let password = created["admin_password"]
            .as_str()
            .ok_or_else(|| anyhow!("no admin password in {created}"))?
            .to_owned();
        let admin = Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: format!("http://{}", stack.addr),
            tenant,
        };
        let csrf = admin.csrf("/console/login").await?;
        admin
            .post(
                "/console/login",
                &[
                    ("csrf", csrf.as_str()),
                    ("email", email),
                    ("password", &password),
                ],
            )
            .await?;
        let csrf = admin.csrf("/console/password").await?;
        let new = "bench scenario password";
        admin
            .post(
                "/console/password",
                &[
                    ("csrf", csrf.as_str()),
                    ("current", &password),
                    ("new_password", new),
                    ("confirm", new),
                ],
            )
            .await?;
        Ok(admin)
    }

    pub async fn csrf(&self, path: &str) -> anyhow::Result<String> {
        let html = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .text()
            .await?;
        let marker = "name=\"csrf\" value=\"";
        let start = html
            .find(marker)
            .map(|at| at + marker.len())
            .ok_or_else(|| anyhow!("no CSRF field on {path}"))?;
        let end = html[start..]
            .find('"')
            .ok_or_else(|| anyhow!("unterminated CSRF field on {path}"))?;
        Ok(html[start..start + end].to_owned())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<()> {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .header(ORIGIN, &self.base)
            .form(form)
            .send()
            .await?;
        if !answer.status().is_redirection() {
            bail!("POST {path} answered {}", answer.status());
        }
        Ok(())
    }

    /// Uploads the file; the job's page and the time the upload took.
    pub async fn upload(&self, csv: Vec<u8>) -> anyhow::Result<(String, Duration)> {
        let csrf = self.csrf("/console/import").await?;
        let boundary = "----insights-memory-scenario";
        let mut body = Vec::with_capacity(csv.len() + 512);
        for (name, value) in [("csrf", csrf.as_str()), ("kind", "users")] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"memory.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(&csv);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let started = Instant::now();
        let answer = self
            .http
            .post(format!("{}/console/import", self.base))
            .header(ORIGIN, &self.base)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await?;
        let took = started.elapsed();
        let job = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("the upload answered {}", answer.status()))?;
        Ok((job, took))
    }

    pub async fn wait_for(&self, job: &str, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let html = self
                .http
                .get(format!("{}{job}", self.base))
                .send()
                .await?
                .text()
                .await?;
            if !html.contains("http-equiv=\"refresh\"") {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the import did not finish within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
