//! Groups: the searchable list with member counts, and a group's members as a sorted,
//! searchable, paged table (userName, name, email, status).

pub mod service;

use actix_web::web;
use askama::Template;
use serde::Deserialize;
use tenancy::directory::users::person_name;
use tenancy::{Db, GroupId};

use crate::error::ConsoleError;
use crate::layout::{Layout, time};
use crate::listing::{Pager, Paging, thousands};
use crate::page::Page;
use crate::session::Console;

/// A list's query: search text and paging.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

/// A group as listed.
struct GroupLine {
    id: String,
    name: String,
    members: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "groups/list.html")]
struct GroupsPage {
    layout: Layout,
    q: String,
    groups: Vec<GroupLine>,
    total: String,
    pager: Pager,
}

/// GET /console/groups
pub async fn list_groups(
    console: Console,
    query: web::Query<ListQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let paging = Paging::asked(query.page, query.per_page);
    let text = query.q.trim();
    let list = service::list_groups(
        &db,
        console.tenant.id,
        text,
        paging.offset(),
        paging.per_page,
    )
    .await?;
    let pager = Pager::new(
        "/console/groups",
        paging,
        list.total,
        false,
        vec![("q", query.q.clone())],
    );
    if let Some(last) = pager.past_end() {
        return Ok(Page::see_other(&last));
    }
    Page::ok(&GroupsPage {
        layout: Layout::new(&console, "groups", "Groups"),
        groups: list
            .rows
            .iter()
            .map(|(g, count)| GroupLine {
                id: g.id.to_string(),
                name: g.display_name.clone(),
                members: thousands(*count),
            })
            .collect(),
        total: thousands(list.total),
        pager,
        q: query.q,
    })
}

/// A member as listed.
struct MemberRow {
    id: String,
    user_name: String,
    name: String,
    email: String,
    active: bool,
}

/// A group's page.
#[derive(Template)]
#[template(path = "groups/detail.html")]
struct GroupPage {
    layout: Layout,
    id: String,
    name: String,
    external_id: String,
    created: String,
    updated: String,
    q: String,
    members: Vec<MemberRow>,
    member_count: String,
    pager: Pager,
    history: Vec<crate::pages::activity::EventLine>,
}

/// GET /console/groups/{id}
pub async fn show_group(
    console: Console,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let id: GroupId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let query = query.into_inner();
    let paging = Paging::asked(query.page, query.per_page);
    let detail = service::group_detail(
        &db,
        console.tenant.id,
        id,
        query.q.trim(),
        paging.offset(),
        paging.per_page,
    )
    .await?;
    let pager = Pager::new(
        format!("/console/groups/{id}"),
        paging,
        detail.matching,
        false,
        vec![("q", query.q.clone())],
    );
    if let Some(last) = pager.past_end() {
        return Ok(Page::see_other(&last));
    }
    let group = detail.group;
    Page::ok(&GroupPage {
        layout: Layout::new(&console, "groups", group.display_name.clone()),
        id: id.to_string(),
        name: group.display_name.clone(),
        external_id: group.external_id.clone().unwrap_or_default(),
        created: time(group.created_at),
        updated: time(group.updated_at),
        members: detail
            .members
            .into_iter()
            .map(|m| {
                let name = person_name(
                    m.display_name.as_deref(),
                    m.given_name.as_deref(),
                    m.family_name.as_deref(),
                );
                MemberRow {
                    id: m.id.to_string(),
                    name,
                    email: m.email.unwrap_or_default(),
                    user_name: m.user_name,
                    active: m.active,
                }
            })
            .collect(),
        member_count: thousands(detail.member_count),
        history: crate::pages::activity::history_lines(&detail.history),
        pager,
        q: query.q,
    })
}
