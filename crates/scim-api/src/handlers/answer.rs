//! The HTTP side of a write's activity record and of a resource's ETag: [`WriteBody`] (or
//! [`WriteOnly`] for a write without a body) is extracted from the request (the activity that
//! authentication began and the redacted copy of the body read with it),
//! and [`ScimAnswer`] answers with the resource, its `ETag` from the row's version and, for a
//! write, marks the request as recorded, so that the middleware does not record it twice. A
//! failed write answers with an error instead and its event is left to the middleware.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, Responder};
use serde::Deserialize;

use crate::auth::ScimAuth;
use crate::error::ScimError;
use crate::events::{Activity, EventRecorded, RequestPayload};
use crate::json::{ScimBody, respond_with_headers};
use crate::protocol::resource::etag;
use crate::service::{Versioned, WriteLog};

/// The record of the request as it stands (its activity, and the redacted body once read).
fn write_log(req: &HttpRequest) -> WriteLog {
    let extensions = req.extensions();
    WriteLog::new(
        extensions.get::<Activity>().cloned(),
        extensions.get::<RequestPayload>().cloned(),
    )
}

/// A write without a body (DELETE): the authenticated request and its record.
pub struct WriteOnly {
    /// Who is writing.
    pub auth: ScimAuth,
    /// The record the write's transaction stores.
    pub log: WriteLog,
}

impl FromRequest for WriteOnly {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = ScimAuth::from_request(req, &mut Payload::None);
        let req = req.clone();
        Box::pin(async move {
            let auth = auth.await?;
            Ok(WriteOnly {
                auth,
                log: write_log(&req),
            })
        })
    }
}

/// A write's authentication, body and record, extracted in that order: authentication starts
/// the request's activity and reading the body keeps its redacted copy, so the record is taken
/// after both (extractors of one handler would otherwise finish in any order).
pub struct WriteBody {
    /// Who is writing.
    pub auth: ScimAuth,
    /// The body.
    pub body: ScimBody,
    /// The record the write's transaction stores.
    pub log: WriteLog,
}

impl FromRequest for WriteBody {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = ScimAuth::from_request(req, &mut Payload::None);
        let body = ScimBody::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let auth = auth.await?;
            let body = body.await?;
            Ok(WriteBody {
                auth,
                body,
                log: write_log(&req),
            })
        })
    }
}

/// The path of one resource: `/scim/v2/{tenant}/Users/{id}` (or `/Groups/{id}`); the tenant
/// comes from [`ScimAuth`].
#[derive(Debug, Deserialize)]
pub struct ResourcePath {
    /// The resource id as sent (parsed by the service, so that a malformed id is a 404).
    pub id: String,
}

/// A SCIM answer about one resource, or a write's empty answer.
#[derive(Debug)]
pub struct ScimAnswer {
    status: StatusCode,
    resource: Option<Versioned>,
    /// A write whose transaction recorded its event.
    recorded: bool,
}

impl ScimAnswer {
    /// A read: 200 with the resource.
    pub fn read(resource: Versioned) -> Self {
        Self {
            status: StatusCode::OK,
            resource: Some(resource),
            recorded: false,
        }
    }

    /// A write that returns the resource (201 on create, 200 otherwise).
    pub fn written(status: StatusCode, resource: Versioned) -> Self {
        Self {
            status,
            resource: Some(resource),
            recorded: true,
        }
    }

    /// A write answered 204 No Content.
    pub fn written_empty() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            resource: None,
            recorded: true,
        }
    }
}

impl Responder for ScimAnswer {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        if self.recorded {
            req.extensions_mut().insert(EventRecorded);
        }
        let Some(resource) = self.resource else {
            return HttpResponse::build(self.status).finish();
        };
        let mut headers = vec![(header::ETAG, etag(resource.version))];
        if self.status == StatusCode::CREATED {
            headers.push((header::LOCATION, resource.location));
        }
        respond_with_headers(self.status, &resource.body, headers)
    }
}
