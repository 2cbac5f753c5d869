//! Paged lists: the page and page size asked for, the pager under a list (previous, next, a
//! page to jump to and the page size), the range shown, and counts written with thousands
//! separators. A page past the end leads to the last page.

use crate::error::encode;

/// The page sizes offered.
pub const PAGE_SIZES: [i64; 4] = [25, 50, 100, 200];
/// The page size of a list until the admin chooses another.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The furthest page a list goes to; beyond it a page is empty rather than an overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// Which page of a list was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page, one of [`PAGE_SIZES`].
    pub per_page: i64,
}

impl Paging {
    /// The page and size in a query; missing or unknown values are the first page and the
    /// default size.
    pub fn asked(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            page: page.unwrap_or(1).clamp(1, MAX_PAGE),
            per_page: per_page
                .filter(|size| PAGE_SIZES.contains(size))
                .unwrap_or(DEFAULT_PAGE_SIZE),
        }
    }

    /// Rows before the page.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// The pager of a list page (`templates/partials/pager.html`).
#[derive(Debug, Clone)]
pub struct Pager {
    /// The list's path.
    pub path: String,
    /// The page shown.
    pub page: i64,
    /// The last page (1 for an empty list).
    pub pages: i64,
    /// Rows per page.
    pub per_page: i64,
    /// How many rows match, in words ("12,345" or "more than 10,000").
    pub total: String,
    /// "51–100", the rows shown.
    pub range: String,
    /// The list's other query parameters (filters), kept by every link and the jump form.
    pub params: Vec<(&'static str, String)>,
    /// The page sizes offered.
    pub sizes: &'static [i64],
}

impl Pager {
    /// The pager for `paging` of a list of `total` rows (`capped`: at least that many).
    pub fn new(
        path: impl Into<String>,
        paging: Paging,
        total: i64,
        capped: bool,
        params: Vec<(&'static str, String)>,
    ) -> Self {
        let pages = ((total + paging.per_page - 1) / paging.per_page).max(1);
        let first = paging.offset() + 1;
        let last = (paging.offset() + paging.per_page).min(total);
        Self {
            path: path.into(),
            page: paging.page,
            pages,
            per_page: paging.per_page,
            total: if capped {
                format!("more than {}", thousands(total - 1))
            } else {
                thousands(total)
            },
            range: if first <= last {
                format!("{}–{}", thousands(first), thousands(last))
            } else {
                String::new()
            },
            params: params.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
            sizes: &PAGE_SIZES,
        }
    }

    /// Where to go instead when the page asked for is past the end: the last page.
    pub fn past_end(&self) -> Option<String> {
        (self.page > self.pages).then(|| self.href(self.pages))
    }

    /// The link to page `page`, with the same filters and page size.
    pub fn href(&self, page: i64) -> String {
        let mut query: Vec<String> = self
            .params
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect();
        if self.per_page != DEFAULT_PAGE_SIZE {
            query.push(format!("per_page={}", self.per_page));
        }
        if page > 1 {
            query.push(format!("page={page}"));
        }
        if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, query.join("&"))
        }
    }

    /// Whether the jump form is worth showing: there is more than one page, or the admin
    /// chose a page size and may want it back.
    pub fn jump_shown(&self) -> bool {
        self.pages > 1 || self.per_page != DEFAULT_PAGE_SIZE
    }

    /// The number of pages in words.
    pub fn pages_shown(&self) -> String {
        thousands(self.pages)
    }
}

/// `12345` as "12,345".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(2_000_000), "2,000,000");
        assert_eq!(thousands(-12_345), "-12,345");
    }

    #[test]
    fn unknown_page_sizes_fall_back_to_the_default() {
        assert_eq!(Paging::asked(None, Some(37)).per_page, DEFAULT_PAGE_SIZE);
        assert_eq!(
            Paging::asked(Some(0), Some(200)),
            Paging {
                page: 1,
                per_page: 200
            }
        );
    }

    #[test]
    fn a_page_past_the_end_leads_to_the_last_page() {
        let pager = Pager::new(
            "/console/users",
            Paging::asked(Some(9), Some(25)),
            60,
            false,
            vec![("q", "a b".into()), ("active", String::new())],
        );
        assert_eq!(pager.pages, 3);
        assert_eq!(
            pager.past_end().as_deref(),
            Some("/console/users?q=a+b&per_page=25&page=3")
        );
        let pager = Pager::new(
            "/console/users",
            Paging::asked(Some(2), None),
            120,
            false,
            vec![],
        );
        assert_eq!(pager.past_end(), None);
        assert_eq!(pager.range, "51–100");
        assert_eq!(pager.total, "120");
        assert_eq!(pager.href(1), "/console/users");
    }

    #[test]
    fn a_capped_total_says_more_than() {
        let pager = Pager::new(
            "/console/activity",
            Paging::asked(None, None),
            10_001,
            true,
            vec![],
        );
        assert_eq!(pager.total, "more than 10,000");
    }
}
