//! The free-text search of the sled Postkorb. Each typed word is a stream of postings newest
//! first: the search entries of every indexed word it begins (`schm`: "schmidt", "schmitz",
//! ...), merged. The streams are intersected by a leapfrog over their keys (each stream moves
//! to the newest posting not newer than the others'; a long gap is a seek, a short one a few
//! steps), so two common words cost what their newest matches cost, not what each word has.
//! Reading stops once the page is full and [`SEARCH_COUNT_LIMIT`] matches are counted; the
//! entries themselves are read for the page only (or for each match when a filter other than
//! the status needs them).
//!
//! [`SEARCH_COUNT_LIMIT`]: crate::postkorb::SEARCH_COUNT_LIMIT

use std::ops::Bound;

use sled::{IVec, Tree};

use super::{BY_TERM, Filter, Found, TAIL, main_key_of, nanos, order_i64};
use crate::error::StoreError;
use crate::model::Status;
use crate::postkorb::{PostkorbPage, SearchTally};
use crate::sled::SledStore;

/// Time and id of a submission, as every index key ends: larger is newer.
type Tail = [u8; TAIL];

/// A typed word that begins more indexed words than this is not read as a stream: its
/// matches are checked in the entries of the other words' matches (or of the list).
const MAX_WORDS: usize = 128;

/// How many postings a stream steps over before it seeks instead.
const STEPS_BEFORE_SEEK: usize = 8;

/// The postings of one indexed word, newest first, from a position.
struct WordCursor {
    /// Tenant, kind, the word and its end byte: every key of this word begins so.
    head: Vec<u8>,
    iter: sled::Iter,
    /// The posting the cursor is on; `None` once it has passed the oldest.
    current: Option<(Tail, u8)>,
}

impl WordCursor {
    fn open(tree: &Tree, head: Vec<u8>, at_most: &Tail) -> Result<WordCursor, StoreError> {
        let iter = range_to(tree, &head, at_most);
        let mut c = WordCursor {
            head,
            iter,
            current: None,
        };
        c.step()?;
        Ok(c)
    }

    fn step(&mut self) -> Result<(), StoreError> {
        self.current = match self.iter.next_back() {
            Some(item) => {
                let (k, v) = item?;
                tail_of(&k).map(|t| (t, v.first().copied().unwrap_or(0)))
            }
            None => None,
        };
        Ok(())
    }

    /// Moves to the newest posting not newer than `target`.
    fn seek(&mut self, tree: &Tree, target: &Tail) -> Result<(), StoreError> {
        for _ in 0..STEPS_BEFORE_SEEK {
            match &self.current {
                Some((t, _)) if t > target => self.step()?,
                _ => return Ok(()),
            }
        }
        if self.current.as_ref().is_some_and(|(t, _)| t > target) {
            self.iter = range_to(tree, &self.head, target);
            self.step()?;
        }
        Ok(())
    }
}

/// The keys of the word `head` up to `at_most`, to be read backwards.
fn range_to(tree: &Tree, head: &[u8], at_most: &Tail) -> sled::Iter {
    let mut end = head.to_vec();
    end.extend_from_slice(at_most);
    tree.range::<Vec<u8>, _>((Bound::Included(head.to_vec()), Bound::Included(end)))
}

fn tail_of(key: &IVec) -> Option<Tail> {
    key.get(key.len().checked_sub(TAIL)?..)?.try_into().ok()
}

/// The tail just older than `t` (`None` below the oldest possible).
fn before(t: &Tail) -> Option<Tail> {
    let mut t = *t;
    for b in t.iter_mut().rev() {
        if *b > 0 {
            *b -= 1;
            return Some(t);
        }
        *b = 0xff;
    }
    None
}

/// The postings of one typed word: its indexed words' cursors merged.
struct TermStream {
    words: Vec<WordCursor>,
}

impl TermStream {
    fn head(&self) -> Option<(Tail, u8)> {
        self.words.iter().filter_map(|w| w.current).max()
    }

    fn seek(&mut self, tree: &Tree, target: &Tail) -> Result<(), StoreError> {
        for w in &mut self.words {
            w.seek(tree, target)?;
        }
        Ok(())
    }
}

impl SledStore {
    /// The indexed words that begin with `term` (their key heads), or `None` if there are
    /// more than [`MAX_WORDS`]. One seek per word: the next key after a word's postings.
    fn words_of(&self, prefix: &[u8], term: &str) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        let mut base = prefix.to_vec();
        base.push(BY_TERM);
        let word_at = base.len();
        base.extend_from_slice(term.as_bytes());
        let tree = &self.inner.postkorb_index;
        let mut words = Vec::new();
        let mut from = base.clone();
        while let Some(item) = tree.range::<Vec<u8>, _>(from..).next() {
            let (k, _) = item?;
            if !k.starts_with(&base) {
                break;
            }
            let Some(end) = k.iter().skip(word_at).position(|b| *b == 0) else {
                break;
            };
            let head = k[..word_at + end + 1].to_vec();
            if words.len() == MAX_WORDS {
                return Ok(None);
            }
            // Past every posting of this word: its bytes, then 1 (the end byte is 0).
            from = head.clone();
            if let Some(last) = from.last_mut() {
                *last = 1;
            }
            words.push(head);
        }
        Ok(Some(words))
    }

    /// A page of a search (`filter.terms` not empty): see the module's documentation.
    pub(super) fn search_page(
        &self,
        prefix: &[u8],
        filter: &Filter<'_>,
    ) -> Result<PostkorbPage, StoreError> {
        let q = filter.q;
        let tree = &self.inner.postkorb_index;
        // From the end of the date range (exclusive) down to its start.
        let newest: Tail = match q.until.map(nanos) {
            Some(u) => {
                let mut t = [0u8; TAIL];
                t[..8].copy_from_slice(&order_i64(u));
                match before(&t) {
                    Some(t) => t,
                    None => return Ok(empty()),
                }
            }
            None => [0xff; TAIL],
        };
        let oldest: Option<[u8; 8]> = q.from.map(|f| order_i64(nanos(f)));
        let mut streams = Vec::new();
        let mut broad = false;
        for term in &filter.terms {
            match self.words_of(prefix, term)? {
                Some(heads) if heads.is_empty() => return Ok(empty()),
                Some(heads) => {
                    let mut words = Vec::with_capacity(heads.len());
                    for h in heads {
                        words.push(WordCursor::open(tree, h, &newest)?);
                    }
                    streams.push(TermStream { words });
                }
                None => broad = true,
            }
        }
        // The entries are read for each match when the postings alone cannot decide.
        let read_each = broad || !q.counted_by_counters_besides_search();
        let mut tally = SearchTally::new(q);
        let mut take = |tail: &Tail, byte: u8| -> Result<bool, StoreError> {
            if oldest.is_some_and(|o| tail[..8] < o[..]) {
                return Ok(false);
            }
            let key = main_key_of(prefix, tail);
            if read_each {
                let Some(found) = self.found(&key)? else {
                    return Ok(true);
                };
                if !filter.matches(&found) {
                    return Ok(true);
                }
                let status = found.record.status;
                Ok(tally.add(Picked::Read(found), status))
            } else {
                let status = Status::ALL
                    .get(usize::from(byte))
                    .copied()
                    .unwrap_or(Status::Eingegangen);
                Ok(tally.add(Picked::Key(key), status))
            }
        };
        if streams.is_empty() {
            // Every word is broad: the list, newest first, each entry checked.
            let mut end = prefix.to_vec();
            end.extend_from_slice(&newest);
            let range = self
                .inner
                .postkorb
                .range::<Vec<u8>, _>((Bound::Included(prefix.to_vec()), Bound::Included(end)));
            for item in range.keys().rev() {
                let k = item?;
                let Some(t) = tail_of(&k) else { continue };
                if !take(&t, 0)? {
                    break;
                }
            }
        } else {
            leapfrog(tree, &mut streams, newest, |t, b| take(t, b))?;
        }
        let (picked, mut page) = tally.finish();
        for p in picked {
            let found = match p {
                Picked::Read(f) => Some(f),
                Picked::Key(k) => self.found(&k)?,
            };
            if let Some(f) = found {
                page.entries.push(f.entry()?);
            }
        }
        Ok(page)
    }
}

/// A match on the page: read already, or to be read.
enum Picked {
    Read(Found),
    Key(Vec<u8>),
}

fn empty() -> PostkorbPage {
    PostkorbPage {
        counts: Status::ALL.into_iter().map(|s| (s, 0)).collect(),
        ..PostkorbPage::default()
    }
}

/// Every tail all streams share, newest first, to `each` (with the status byte of the first
/// stream's posting) until it answers `false` or a stream ends.
fn leapfrog(
    tree: &Tree,
    streams: &mut [TermStream],
    newest: Tail,
    mut each: impl FnMut(&Tail, u8) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let n = streams.len();
    let mut target = newest;
    let mut i = 0;
    let mut agreed = 0;
    loop {
        let Some(stream) = streams.get_mut(i) else {
            return Ok(());
        };
        stream.seek(tree, &target)?;
        let Some((head, byte)) = stream.head() else {
            return Ok(());
        };
        if head == target {
            agreed += 1;
        } else {
            target = head;
            agreed = 1;
        }
        if agreed == n {
            if !each(&target, byte)? {
                return Ok(());
            }
            match before(&target) {
                Some(t) => target = t,
                None => return Ok(()),
            }
            agreed = 0;
        }
        i = (i + 1) % n;
    }
}
