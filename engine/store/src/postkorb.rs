//! The case workers' view of a tenant's submissions: a filtered, paged list, newest first, with
//! counts per status. Backends answer it from indexes kept in the same transaction as every
//! submission, status and case change (one entry per submission; secondary entries by status,
//! service, assignee, follow-up date and search term; counters per status, service and
//! assignee), never by decoding every submission's data. Shared here: the query, the page, the
//! search terms and the parsing of a reference search.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::ids::{AccountId, Reference, SubmissionId};
use super::model::Status;

/// Filters and paging of [`super::SubmissionStore::postkorb`]. Every filter is optional;
/// `Default` lists everything from the newest. `Debug` leaves out the search words (they may
/// be a name).
#[derive(Clone, PartialEq, Default)]
pub struct PostkorbQuery {
    /// Only submissions whose current status is this one.
    pub status: Option<Status>,
    /// Only submissions of this workflow (service) id.
    pub workflow: Option<String>,
    /// Submitted at or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Submitted before this instant.
    pub until: Option<OffsetDateTime>,
    /// A reference or its number, case-insensitive: `hei-2026-000017`, `2026-17`, `17` or
    /// `000017` (the number in any year). See [`ReferenceSearch`].
    pub reference: Option<String>,
    /// Only cases assigned to this staff member ("Meine Anträge", or a colleague's).
    pub assignee: Option<AccountId>,
    /// Only open cases whose follow-up date (Wiedervorlage) is on or before this day: what is
    /// due today or overdue.
    pub due_by: Option<Date>,
    /// Words of the applicant's name or of any answer; each must begin a word of the
    /// submission (`anna schm` finds "Anna Schmidt"). See [`search_terms`].
    pub text: Option<String>,
    /// Entries to skip (paging).
    pub offset: usize,
    /// Entries to return (`usize::MAX` for all, e.g. for an export of the selection).
    pub limit: usize,
}

/// One line of the list. `Debug` leaves out the applicant's name.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PostkorbEntry {
    pub id: SubmissionId,
    pub reference: Reference,
    pub workflow_id: String,
    pub workflow_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted: OffsetDateTime,
    pub status: Status,
    /// When the current status was set.
    #[serde(with = "time::serde::rfc3339")]
    pub status_at: OffsetDateTime,
    /// Who applied, when the answers name someone.
    pub applicant: Option<String>,
    /// The staff member the case is assigned to.
    pub assignee: Option<AccountId>,
    /// The follow-up date (Wiedervorlage).
    #[serde(with = "crate::model::iso_date::option")]
    pub follow_up: Option<Date>,
}

/// A page of the list and what the filters found in total.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PostkorbPage {
    pub entries: Vec<PostkorbEntry>,
    /// Entries matching every filter.
    pub total: u64,
    /// Per status: entries matching every filter except the status filter, so a case worker
    /// sees how many wait in each status under the other filters.
    pub counts: BTreeMap<Status, u64>,
    /// A search matched more than [`SEARCH_COUNT_LIMIT`] submissions under the other
    /// filters: `total` and `counts` cover the newest that many only, and there are more (so
    /// the total is a lower bound: "mehr als"). Paging still reaches every match.
    pub truncated: bool,
}

/// How many matches of a search are counted (the newest ones). A search reads its postings
/// newest first and stops once its page is full and this many are counted, so that words
/// every tenant's submissions share cost no more than a rare name.
pub const SEARCH_COUNT_LIMIT: usize = 1_000;

/// The longest search term kept (longer words are cut; a search for them still matches).
const TERM_MAX: usize = 40;
/// The most terms kept per submission.
const TERMS_MAX: usize = 400;

/// The search terms of a text: words of letters and digits, lower case, umlauts and ß spelt
/// out (`Müller` → `mueller`, `Straße` → `strasse`), other accents dropped, each word once,
/// in order. What the Postkorb indexes and how it reads a search, on every backend.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut word = String::new();
    let push = |word: &mut String, terms: &mut Vec<String>| {
        if !word.is_empty() {
            let w: String = word.chars().take(TERM_MAX).collect();
            if !terms.contains(&w) && terms.len() < TERMS_MAX {
                terms.push(w);
            }
            word.clear();
        }
    };
    for c in text.chars() {
        match fold(c) {
            Some(f) => word.push_str(f.as_ref()),
            None => push(&mut word, &mut terms),
        }
    }
    push(&mut word, &mut terms);
    terms
}

/// One character as it is searched: `None` for what separates words.
fn fold(c: char) -> Option<std::borrow::Cow<'static, str>> {
    use std::borrow::Cow;
    let spelt = match c {
        'ä' | 'Ä' => "ae",
        'ö' | 'Ö' => "oe",
        'ü' | 'Ü' => "ue",
        'ß' | 'ẞ' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Å' => "a",
        'ç' | 'Ç' | 'č' | 'Č' | 'ć' | 'Ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' | 'ń' | 'Ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'Ù' | 'Ú' | 'Û' => "u",
        'š' | 'Š' | 'ś' | 'Ś' => "s",
        'ž' | 'Ž' | 'ź' | 'Ź' | 'ż' | 'Ż' => "z",
        'ł' | 'Ł' => "l",
        _ if c.is_ascii_alphanumeric() => {
            return Some(Cow::Owned(c.to_ascii_lowercase().to_string()));
        }
        _ if c.is_alphanumeric() => return Some(Cow::Owned(c.to_lowercase().collect())),
        _ => return None,
    };
    Some(Cow::Borrowed(spelt))
}

/// The terms of a submission as the store keeps them: its applicant's name and answer texts.
pub(crate) fn submission_terms(applicant: Option<&str>, search_text: &str) -> String {
    let mut text = String::with_capacity(search_text.len() + 40);
    if let Some(a) = applicant {
        text.push_str(a);
        text.push(' ');
    }
    text.push_str(search_text);
    search_terms(&text).join(" ")
}

/// A search by reference, parsed: the number, with the year and the tenant's prefix when
/// given. `HEI-2026-000017`, `2026-17`, `17` and `000017` all find reference 17 (the last
/// two in any year).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReferenceSearch {
    /// Nothing to search for.
    Any,
    /// Cannot match (another prefix, no number).
    Nothing,
    Number {
        prefix: Option<String>,
        year: Option<i32>,
        number: u64,
    },
}

impl ReferenceSearch {
    pub(crate) fn parse(text: Option<&str>) -> ReferenceSearch {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return ReferenceSearch::Any;
        };
        let parts: Vec<&str> = text
            .split(['-', ' ', '/'])
            .filter(|p| !p.is_empty())
            .collect();
        let Some((last, rest)) = parts.split_last() else {
            return ReferenceSearch::Nothing;
        };
        let Ok(number) = last.parse::<u64>() else {
            return ReferenceSearch::Nothing;
        };
        let (year, rest) = match rest.split_last() {
            Some((y, r)) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => {
                (y.parse::<i32>().ok(), r)
            }
            _ => (None, rest),
        };
        match rest {
            [] => ReferenceSearch::Number {
                prefix: None,
                year,
                number,
            },
            [p] if p.chars().all(|c| c.is_ascii_alphabetic()) => ReferenceSearch::Number {
                prefix: Some(p.to_ascii_uppercase()),
                year,
                number,
            },
            _ => ReferenceSearch::Nothing,
        }
    }

    /// Whether `reference` is one this search finds.
    pub(crate) fn matches(&self, reference: &Reference) -> bool {
        match self {
            ReferenceSearch::Any => true,
            ReferenceSearch::Nothing => false,
            ReferenceSearch::Number {
                prefix,
                year,
                number,
            } => {
                reference.number() == *number
                    && year.is_none_or(|y| y == reference.year())
                    && prefix.as_deref().is_none_or(|p| p == reference.prefix())
            }
        }
    }
}

impl std::fmt::Debug for PostkorbQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostkorbQuery")
            .field("status", &self.status)
            .field("workflow", &self.workflow)
            .field("from", &self.from)
            .field("until", &self.until)
            .field("reference", &self.reference)
            .field("assignee", &self.assignee)
            .field("due_by", &self.due_by)
            .field("searching", &self.text.is_some())
            .field("offset", &self.offset)
            .field("limit", &self.limit)
            .finish()
    }
}

impl std::fmt::Debug for PostkorbEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostkorbEntry")
            .field("id", &self.id)
            .field("reference", &self.reference.to_string())
            .field("workflow_id", &self.workflow_id)
            .field("status", &self.status)
            .field("assignee", &self.assignee)
            .field("follow_up", &self.follow_up)
            .finish_non_exhaustive()
    }
}

impl PostkorbQuery {
    /// The search terms of `text` (empty: no search).
    pub(crate) fn terms(&self) -> Vec<String> {
        self.text.as_deref().map(search_terms).unwrap_or_default()
    }

    /// Whether a search has no filter but the status.
    pub(crate) fn counted_by_counters_besides_search(&self) -> bool {
        PostkorbQuery {
            text: None,
            ..self.clone()
        }
        .counted_by_counters()
            && self.workflow.is_none()
            && self.assignee.is_none()
    }

    /// Whether a list of what is due has no filter but the status.
    pub(crate) fn counted_by_counters_besides_due(&self) -> bool {
        PostkorbQuery {
            due_by: None,
            ..self.clone()
        }
        .counted_by_counters()
            && self.workflow.is_none()
            && self.assignee.is_none()
    }

    /// Whether the counters per status, service and assignee give the counts: no filter
    /// beyond those.
    pub(crate) fn counted_by_counters(&self) -> bool {
        self.from.is_none()
            && self.until.is_none()
            && self.due_by.is_none()
            && ReferenceSearch::parse(self.reference.as_deref()) == ReferenceSearch::Any
            && self.terms().is_empty()
    }
}

/// Counts the matches of a search as they come, newest first, and picks its page: the first
/// [`SEARCH_COUNT_LIMIT`] are counted per status; those of the status filter at
/// `offset..offset + limit` make the page. [`SearchTally::add`] says when to stop reading.
pub(crate) struct SearchTally<K> {
    status: Option<Status>,
    offset: usize,
    limit: usize,
    counted: usize,
    counts: [u64; Status::ALL.len()],
    /// A match beyond the counted ones was seen.
    more: bool,
    /// Matches of the status filter seen.
    filtered: usize,
    page: Vec<K>,
}

impl<K> SearchTally<K> {
    pub(crate) fn new(q: &PostkorbQuery) -> SearchTally<K> {
        SearchTally {
            status: q.status,
            offset: q.offset,
            limit: q.limit,
            counted: 0,
            counts: [0; Status::ALL.len()],
            more: false,
            filtered: 0,
            page: Vec::new(),
        }
    }

    /// One more match (the next older one); `false` once nothing more is needed.
    pub(crate) fn add(&mut self, key: K, status: Status) -> bool {
        if self.counted < SEARCH_COUNT_LIMIT {
            self.counted += 1;
            if let Some(slot) = Status::ALL
                .iter()
                .position(|s| *s == status)
                .and_then(|i| self.counts.get_mut(i))
            {
                *slot += 1;
            }
        } else {
            self.more = true;
        }
        if self.status.is_none_or(|s| s == status) {
            if self.filtered >= self.offset && self.page.len() < self.limit {
                self.page.push(key);
            }
            self.filtered += 1;
        }
        !(self.more && self.filtered >= self.offset.saturating_add(self.limit))
    }

    /// The page's keys in list order, and the page without its entries: counts of the
    /// counted matches; the total of them, or as many as it takes to reach the page's end
    /// when that lies beyond them.
    pub(crate) fn finish(self) -> (Vec<K>, PostkorbPage) {
        let counts: BTreeMap<Status, u64> = Status::ALL.into_iter().zip(self.counts).collect();
        let counted = match self.status {
            Some(s) => counts.get(&s).copied().unwrap_or(0),
            None => counts.values().sum(),
        };
        let reached = match self.page.len() {
            0 => 0,
            n => self.offset.saturating_add(n),
        };
        let page = PostkorbPage {
            entries: Vec::new(),
            total: counted.max(reached as u64),
            counts,
            truncated: self.more,
        };
        (self.page, page)
    }
}
