//! Groups: the list with member counts, and a group's members.

use std::collections::HashMap;

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;
use tenancy::directory::groups;
use tenancy::directory::{Condition, Page, SqlValue};
use tenancy::{Db, GroupId};

use crate::error::{ConsoleError, encode};
use crate::layout::{Layout, time};
use crate::session::Console;

/// Groups per page.
const PER_PAGE: i64 = 50;
/// Members shown on a group's page.
const MEMBERS_SHOWN: usize = 500;

/// The list's query.
#[derive(Debug, Default, Deserialize)]
pub struct GroupQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

/// The list page.
#[derive(Template, WebTemplate)]
#[template(path = "groups/list.html")]
pub struct GroupsPage {
    layout: Layout,
    q: String,
    groups: Vec<(String, String, i64)>,
    total: i64,
    page: i64,
    pages: i64,
    query_base: String,
}

/// GET /console/groups
pub async fn list_groups(
    console: Console,
    query: web::Query<GroupQuery>,
    db: web::Data<Db>,
) -> Result<GroupsPage, ConsoleError> {
    let query = query.into_inner();
    let condition = if query.q.trim().is_empty() {
        Condition::always()
    } else {
        Condition {
            sql: "strpos(lower(g.display_name), lower($?)) > 0".into(),
            binds: vec![SqlValue::Text(query.q.trim().to_owned())],
        }
    };
    let page_number = super::page_number(query.page);
    let page = Page {
        offset: (page_number - 1) * PER_PAGE,
        limit: PER_PAGE,
        order_by: Some("lower(g.display_name)"),
        descending: false,
    };
    let tenant = console.tenant.id;
    let (rows, counts, total) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let rows = groups::list(conn, tenant, &condition, &page)?;
            let ids: Vec<GroupId> = rows.iter().map(|g| g.id).collect();
            let counts: HashMap<GroupId, i64> = groups::member_counts(conn, tenant, &ids)?
                .into_iter()
                .collect();
            Ok((rows, counts, groups::count(conn, tenant, &condition)?))
        })
        .await?;
    Ok(GroupsPage {
        layout: Layout::new(&console, "groups", "Groups"),
        groups: rows
            .iter()
            .map(|g| {
                (
                    g.id.to_string(),
                    g.display_name.clone(),
                    counts.get(&g.id).copied().unwrap_or(0),
                )
            })
            .collect(),
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
        page: page_number,
        query_base: format!("q={}", encode(&query.q)),
        q: query.q,
    })
}

/// A group's page.
#[derive(Template, WebTemplate)]
#[template(path = "groups/detail.html")]
pub struct GroupPage {
    layout: Layout,
    name: String,
    external_id: String,
    created: String,
    updated: String,
    members: Vec<(String, String)>,
    member_count: usize,
}

/// GET /console/groups/{id}
pub async fn show_group(
    console: Console,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<GroupPage, ConsoleError> {
    let id: GroupId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let (group, members) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let group = groups::find(conn, tenant, id)?.ok_or(tenancy::Error::NotFound)?;
            Ok((group, groups::members_of(conn, tenant, &[id])?))
        })
        .await?;
    Ok(GroupPage {
        layout: Layout::new(&console, "groups", group.display_name.clone()),
        name: group.display_name.clone(),
        external_id: group.external_id.clone().unwrap_or_default(),
        created: time(group.created_at),
        updated: time(group.updated_at),
        member_count: members.len(),
        members: members
            .into_iter()
            .take(MEMBERS_SHOWN)
            .map(|m| (m.user_id.to_string(), m.display))
            .collect(),
    })
}
