//! The groups' units of work: a page of groups with their member counts, and one group with a
//! page of its members. Each is one `Db::run_read` (they tolerate a streaming replica's lag);
//! no actix types.

use std::collections::HashMap;

use tenancy::directory::groups::{self, GroupRow};
use tenancy::directory::member_page::{self, MemberLine};
use tenancy::directory::{Condition, Page, SqlValue};
use tenancy::{Db, GroupId, TenantId};

use crate::error::ConsoleError;

/// A page of groups, each with its member count, and how many match.
#[derive(Debug)]
pub struct GroupList {
    /// The groups, by name.
    pub rows: Vec<(GroupRow, i64)>,
    /// Groups matching the search.
    pub total: i64,
}

/// One page of the groups whose name contains `text` (any case, any accents).
pub async fn list_groups(
    db: &Db,
    tenant: TenantId,
    text: &str,
    offset: i64,
    limit: i64,
) -> Result<GroupList, ConsoleError> {
    let condition = if text.is_empty() {
        Condition::always()
    } else {
        Condition {
            sql: "strpos(insights_fold(g.display_name), insights_fold($?)) > 0".into(),
            binds: vec![SqlValue::Text(text.to_owned())],
        }
    };
    let page = Page {
        offset,
        limit,
        order_by: Some("g.display_name_key"),
        descending: false,
    };
    let (rows, counts, total) = db
        .run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
            let rows = groups::list(conn, tenant, &condition, &page)?;
            let ids: Vec<GroupId> = rows.iter().map(|g| g.id).collect();
            let counts: HashMap<GroupId, i64> = groups::member_counts(conn, tenant, &ids)?
                .into_iter()
                .collect();
            Ok((rows, counts, groups::count(conn, tenant, &condition)?))
        })
        .await?;
    Ok(GroupList {
        rows: rows
            .into_iter()
            .map(|g| {
                let count = counts.get(&g.id).copied().unwrap_or(0);
                (g, count)
            })
            .collect(),
        total,
    })
}

/// A group and one page of its members.
#[derive(Debug)]
pub struct GroupDetail {
    /// The group.
    pub group: GroupRow,
    /// The page of members, by userName.
    pub members: Vec<MemberLine>,
    /// Members matching the search.
    pub matching: i64,
    /// Members in all.
    pub member_count: i64,
    /// The newest requests about it (Provisioning history).
    pub history: Vec<tenancy::events::EventRow>,
}

/// The group `id` with the page (`offset`, `limit`) of its members matching `search`.
pub async fn group_detail(
    db: &Db,
    tenant: TenantId,
    id: GroupId,
    search: &str,
    offset: i64,
    limit: i64,
) -> Result<GroupDetail, ConsoleError> {
    let search = (!search.is_empty()).then(|| search.to_owned());
    Ok(db
        .run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
            let group = groups::find(conn, tenant, id)?.ok_or(tenancy::Error::NotFound)?;
            let (members, matching) =
                member_page::members_page(conn, tenant, id, search.as_deref(), offset, limit)?;
            let member_count = if search.is_some() {
                member_page::member_count(conn, tenant, id)?
            } else {
                matching
            };
            let history = tenancy::events::recent_about(
                conn,
                tenant,
                &id.to_string(),
                crate::pages::users::service::HISTORY,
            )?;
            Ok(GroupDetail {
                group,
                members,
                matching,
                member_count,
                history,
            })
        })
        .await?)
}
