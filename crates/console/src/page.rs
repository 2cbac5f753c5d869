//! The one way the console answers: a rendered page with its status and cookies, or a redirect
//! after a form (POST-redirect-GET), optionally with a one-shot flash message. Security headers
//! and `Cache-Control: no-store` are added to every answer by the routes' guard.

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder};
use askama::Template;

use crate::error::ConsoleError;
use crate::session::flash_cookie;

/// A console answer.
#[derive(Debug)]
pub struct Page {
    status: StatusCode,
    body: String,
    location: Option<header::HeaderValue>,
    cookies: Vec<Cookie<'static>>,
    retry_after: Option<u64>,
}

impl Page {
    /// The page `template` with status 200.
    pub fn ok(template: &impl Template) -> Result<Self, ConsoleError> {
        let body = template.render().map_err(|error| {
            tracing::error!(%error, "a console template failed to render");
            ConsoleError::Internal
        })?;
        Ok(Self {
            status: StatusCode::OK,
            body,
            location: None,
            cookies: Vec::new(),
            retry_after: None,
        })
    }

    /// A redirect to `location` (303 See Other). A location that cannot be a header value (it
    /// never should be) leads to the console's start page instead.
    pub fn see_other(location: &str) -> Self {
        let location = header::HeaderValue::from_str(location)
            .unwrap_or_else(|_| header::HeaderValue::from_static("/console"));
        Self {
            status: StatusCode::SEE_OTHER,
            body: String::new(),
            location: Some(location),
            cookies: Vec::new(),
            retry_after: None,
        }
    }

    /// The same answer with another status (a form shown again with its error: 400).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets a cookie.
    pub fn cookie(mut self, cookie: Cookie<'static>) -> Self {
        self.cookies.push(cookie);
        self
    }

    /// A message shown once on the next page.
    pub fn flash(self, message: &str) -> Self {
        self.cookie(flash_cookie(message))
    }

    /// Asks the client to wait this many seconds (429).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl Responder for Page {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        } else {
            response.content_type("text/html; charset=utf-8");
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, header::HeaderValue::from(seconds)));
        }
        for cookie in self.cookies {
            response.cookie(cookie);
        }
        response.body(self.body)
    }
}
