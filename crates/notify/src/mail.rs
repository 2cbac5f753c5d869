//! E-mail over SMTP with lettre, configured by `INSIGHTS_SMTP_URL` and `INSIGHTS_MAIL_FROM`:
//! `smtps://` is implicit TLS (port 465); `smtp://` upgrades with STARTTLS (port 587) and
//! refuses to go on without it, except to a loopback relay, where STARTTLS is used when the
//! relay offers it and plain SMTP otherwise (local relays and the tests). Credentials in the
//! URL are therefore never sent in clear beyond the machine.

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::error::NotifyError;
use crate::message::Rendered;

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The e-mail settings as given.
#[derive(Clone, Default)]
pub struct MailSettings {
    /// `INSIGHTS_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// `INSIGHTS_MAIL_FROM`.
    pub from: Option<String>,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "…"))
            .field("from", &self.from)
            .finish()
    }
}

/// A configured SMTP transport and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The relay, for messages (never the credentials).
    pub relay: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

/// The parts of an SMTP URL.
#[derive(Debug, PartialEq, Eq)]
struct SmtpUrl {
    implicit_tls: bool,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

fn settings_error(message: &str) -> NotifyError {
    NotifyError::Settings(message.to_owned())
}

/// `%XX` decoding of the user and password of a URL.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_url(url: &str) -> Result<SmtpUrl, NotifyError> {
    let (implicit_tls, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("smtp://") {
        (false, rest)
    } else {
        return Err(settings_error(
            "INSIGHTS_SMTP_URL must start with smtp:// or smtps://",
        ));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let credentials = match userinfo {
        Some(userinfo) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decode = |part| {
                percent_decode(part).ok_or_else(|| {
                    settings_error("INSIGHTS_SMTP_URL has a badly encoded user or password")
                })
            };
            Some((decode(user)?, decode(password)?))
        }
        None => None,
    };
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| settings_error("INSIGHTS_SMTP_URL has a malformed host"))?;
            (host.to_owned(), after.strip_prefix(':'))
        }
        None => match hostport.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (hostport.to_owned(), None),
        },
    };
    if host.is_empty() {
        return Err(settings_error("INSIGHTS_SMTP_URL names no host"));
    }
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| settings_error("INSIGHTS_SMTP_URL has a port that is not a number"))?,
        None if implicit_tls => 465,
        None => 587,
    };
    Ok(SmtpUrl {
        implicit_tls,
        host,
        port,
        credentials,
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Mailer {
    /// The mailer of these settings; `Ok(None)` when e-mail is not configured (no SMTP URL).
    pub fn from_settings(settings: &MailSettings) -> Result<Option<Self>, NotifyError> {
        let Some(url) = settings
            .smtp_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        else {
            return Ok(None);
        };
        let from: Mailbox = settings
            .from
            .as_deref()
            .ok_or_else(|| settings_error("INSIGHTS_MAIL_FROM must be set with INSIGHTS_SMTP_URL"))?
            .parse()
            .map_err(|_| settings_error("INSIGHTS_MAIL_FROM is not an e-mail address"))?;
        let url = parse_url(url.trim())?;
        let tls_parameters = || {
            TlsParameters::new(url.host.clone()).map_err(|e| {
                NotifyError::Settings(format!("cannot set up TLS for the SMTP relay: {e}"))
            })
        };
        let tls = if url.implicit_tls {
            Tls::Wrapper(tls_parameters()?)
        } else if is_loopback(&url.host) {
            Tls::Opportunistic(tls_parameters()?)
        } else {
            Tls::Required(tls_parameters()?)
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.clone())
            .port(url.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some((user, password)) = url.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Some(Self {
            transport: builder.build(),
            from,
            relay: format!("{}:{}", url.host, url.port),
        }))
    }

    /// Sends one message to `to`. The error is in plain words (the relay's answer), never a
    /// credential.
    pub async fn send(&self, to: &str, rendered: &Rendered) -> Result<(), (Option<i32>, String)> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| (None, format!("{to:?} is not an e-mail address")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&rendered.subject)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                rendered.html.clone(),
            ))
            .map_err(|e| (None, format!("the message could not be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => {
                let code = error.status().map(|code| i32::from(u16::from(code)));
                Err((
                    code,
                    format!("the SMTP relay {} refused or failed: {error}", self.relay),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_their_tls_mode_port_and_credentials() -> Result<(), NotifyError> {
        assert_eq!(
            parse_url("smtp://user%40corp:p%3Ass@mail.example.com")?,
            SmtpUrl {
                implicit_tls: false,
                host: "mail.example.com".into(),
                port: 587,
                credentials: Some(("user@corp".into(), "p:ss".into())),
            }
        );
        assert_eq!(parse_url("smtps://mail.example.com")?.port, 465);
        assert_eq!(parse_url("smtp://127.0.0.1:2525")?.port, 2525);
        assert_eq!(parse_url("smtp://[::1]:25")?.host, "::1");
        assert!(parse_url("http://mail.example.com").is_err());
        assert!(parse_url("smtp://:25").is_err());
        assert!(parse_url("smtp://host:port").is_err());
        Ok(())
    }

    #[test]
    fn e_mail_is_off_without_a_url_and_needs_a_sender_with_one() {
        assert!(matches!(
            Mailer::from_settings(&MailSettings::default()),
            Ok(None)
        ));
        let url_only = MailSettings {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            from: None,
        };
        assert!(Mailer::from_settings(&url_only).is_err());
        let both = MailSettings {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            from: Some("Insights <insights@example.com>".into()),
        };
        assert!(matches!(Mailer::from_settings(&both), Ok(Some(_))));
        assert!(
            !format!(
                "{:?}",
                MailSettings {
                    smtp_url: Some("smtp://u:secret@h".into()),
                    from: None
                }
            )
            .contains("secret")
        );
    }
}
