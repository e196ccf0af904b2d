//! The service catalogue of a tenant: services by Lebenslage and a search a citizen expects.
//! Case and umlauts do not matter (Strasse = Straße), word forms do not matter (Hunde = Hund),
//! parts of compound words are found ("Park" finds Bewohnerparkausweis), one typo is forgiven
//! ("Hundsteuer"), and designers' synonyms widen a query ("Umzug" finds Ummeldung).
//!
//! The entries themselves (services with or without an assistant, after the FIM
//! Leistungsbeschreibung) are read and checked in [`load`], imported from CSV or JSON in
//! [`import`]; the Lebenslagen are a fixed vocabulary in [`lebenslagen`].
//!
//! The index is a pure data structure: no I/O, no HTTP.

pub mod import;
pub mod lebenslagen;
pub mod leistung;
pub mod load;
pub mod local;

use std::collections::{BTreeMap, HashMap};

pub use lebenslagen::{LEBENSLAGEN, Lebenslage, lebenslage};
pub use leistung::{Leistung, Office, Responsible};
pub use local::{LocalError, LocalField, LocalPart};

/// How a word is reduced to its stem before it is indexed or looked up.
pub type Stemmer = fn(&str) -> String;

/// Synonyms every portal's search knows: a word, and the words it also finds.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    ("Umzug", &["Ummeldung", "Wohnsitz", "Parken"]),
    ("Tier", &["Hund", "Haustier"]),
    ("Perso", &["Personalausweis"]),
    ("Ausweis", &["Personalausweis", "Reisepass"]),
    ("Auto", &["Fahrzeug", "Kfz"]),
    ("Heirat", &["Eheschliessung", "Trauung"]),
    ("Hochzeit", &["Eheschliessung", "Trauung"]),
    ("Baby", &["Geburt"]),
    ("Firma", &["Gewerbe", "Unternehmen"]),
    ("Muell", &["Abfall"]),
];

/// [`SYNONYMS`] in the form [`Catalogue::new`] takes.
pub fn default_synonyms() -> BTreeMap<String, Vec<String>> {
    SYNONYMS
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

/// One entry of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub lebenslagen: Vec<String>,
}

/// A hit, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
}

/// Where a term occurs, and how much that place counts.
#[derive(Clone, Copy, Debug)]
struct Posting {
    entry: u32,
    weight: f32,
}

/// A search index over a tenant's services.
#[derive(Debug)]
pub struct Catalogue {
    entries: Vec<Entry>,
    /// Normalised, stemmed term -> postings.
    terms: HashMap<String, Vec<Posting>>,
    /// The vocabulary, for substring and typo matching.
    vocabulary: Vec<String>,
    synonyms: HashMap<String, Vec<String>>,
    stem: Stemmer,
}

/// Lower case, umlauts and ß spelled out, everything but letters and digits a separator.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_alphanumeric() => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

/// A light German stemmer for normalised words: enough that Hund, Hunde, Hundes and Hunden
/// meet, and Anmeldung and anmelden, Zeugnis and Zeugnisse, Pass and Pässe.
///
/// Umlauts (already spelled out by [`normalise`]) fold to their base vowel, so that a plural
/// with an umlaut meets its singular; then one ending goes, the longest first, as long as four
/// letters stay. A final `s` stays after `i`, `u` and `s` (Ausweis, Bus, Pass), and `-niss`
/// (of -nisse) becomes `-nis`.
pub fn stem(word: &str) -> String {
    let folded = word
        .replace("ae", "a")
        .replace("oe", "o")
        .replace("ue", "u");
    for suffix in ["ungen", "ern", "ung", "en", "er", "es", "e", "n", "s"] {
        if let Some(stripped) = folded.strip_suffix(suffix)
            && stripped.chars().count() >= 4
        {
            if suffix == "s" && stripped.ends_with(['i', 'u', 's']) {
                continue;
            }
            return match stripped.strip_suffix("niss") {
                Some(head) => format!("{head}nis"),
                None => stripped.to_string(),
            };
        }
    }
    folded
}

fn terms(s: &str, stem: Stemmer) -> Vec<String> {
    normalise(s).split_whitespace().map(stem).collect()
}

/// Whether `a` and `b` differ by at most one insertion, deletion, substitution or swap.
fn one_edit(a: &str, b: &str) -> bool {
    // Normalised words are nearly always ASCII: compare bytes then, without allocating (this
    // runs for every word of the vocabulary).
    if a.is_ascii() && b.is_ascii() {
        return one_edit_in(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    one_edit_in(&a, &b)
}

fn one_edit_in<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let rest_a = la - prefix - suffix.min(la - prefix);
    let rest_b = lb - prefix - suffix.min(lb - prefix);
    if rest_a <= 1 && rest_b <= 1 {
        return true;
    }
    // A swap of two neighbours: "hnud" for "hund".
    la == lb && rest_a == 2 && a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix]
}

impl Catalogue {
    /// Builds the index. `synonyms` maps a word to words it should also find
    /// (`umzug: [ummeldung, wohnsitz, adresse]`).
    pub fn new(entries: Vec<Entry>, synonyms: &BTreeMap<String, Vec<String>>) -> Catalogue {
        Catalogue::with_stemmer(entries, synonyms, stem)
    }

    /// Builds the index with another stemmer (for comparing stemmers; the portal uses
    /// [`stem`]).
    pub fn with_stemmer(
        entries: Vec<Entry>,
        synonyms: &BTreeMap<String, Vec<String>>,
        stem: Stemmer,
    ) -> Catalogue {
        let mut terms: HashMap<String, Vec<Posting>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let mut add = |text: &str, weight: f32| {
                for t in self::terms(text, stem) {
                    let list = terms.entry(t).or_default();
                    match list.last_mut() {
                        Some(p) if p.entry == i as u32 => p.weight = p.weight.max(weight),
                        _ => list.push(Posting {
                            entry: i as u32,
                            weight,
                        }),
                    }
                }
            };
            add(&e.title, 3.0);
            for k in &e.keywords {
                add(k, 2.0);
            }
            for l in &e.lebenslagen {
                add(lebenslage(l).map_or(l.as_str(), |l| l.de), 1.5);
            }
            add(&e.description, 1.0);
        }
        let mut vocabulary: Vec<String> = terms.keys().cloned().collect();
        vocabulary.sort();
        let synonyms = synonyms
            .iter()
            .map(|(k, v)| {
                (
                    stem(&normalise(k).replace(' ', "")),
                    v.iter().flat_map(|s| self::terms(s, stem)).collect(),
                )
            })
            .collect();
        Catalogue {
            entries,
            terms,
            vocabulary,
            synonyms,
            stem,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Services whose Lebenslage is `lage`, in title order.
    pub fn by_lebenslage(&self, lage: &str) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.lebenslagen.iter().any(|l| l == lage))
            .collect();
        out.sort_by(|a, b| a.title.cmp(&b.title));
        out
    }

    /// Every Lebenslage used, with its number of services.
    pub fn lebenslagen(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for e in &self.entries {
            for l in &e.lebenslagen {
                *out.entry(l.clone()).or_insert(0) += 1;
            }
        }
        out
    }

    /// Scores for one query term: exact term, part of a compound, one typo; each weaker. Of
    /// the inexact matches only the best counts for an entry, so that an entry with many
    /// compounds of a word does not outrank the one that has the word itself.
    fn score_term(&self, term: &str, scores: &mut [f32]) {
        if let Some(list) = self.terms.get(term) {
            for p in list {
                scores[p.entry as usize] += 3.0 * p.weight;
            }
        }
        // The best inexact score per entry, and the entries that have one.
        let mut best = vec![0f32; scores.len()];
        let mut touched: Vec<u32> = Vec::new();
        let len = term.chars().count();
        let long_enough = len >= 3;
        let typo_ok = len >= 5;
        for word in &self.vocabulary {
            if word == term {
                continue;
            }
            let factor = if long_enough && word.contains(term) {
                // "park" in "bewohnerparkausweis"; a prefix counts more than the middle.
                if word.starts_with(term) { 2.0 } else { 1.5 }
            } else if word.len() >= 5 && term.starts_with(word.as_str()) {
                // The query is a compound of a known word: "wohngeldantrag" has "wohngeld".
                1.0
            } else if typo_ok && one_edit(word, term) {
                1.0
            } else if typo_ok
                && word.len() > term.len()
                && word
                    .get(..term.len())
                    .is_some_and(|head| one_edit(head, term))
            {
                // A typo in the first part of a compound: "hundsteuer" in "hundesteuermarke".
                0.5
            } else {
                continue;
            };
            if let Some(list) = self.terms.get(word) {
                for p in list {
                    let b = &mut best[p.entry as usize];
                    if *b == 0.0 {
                        touched.push(p.entry);
                    }
                    *b = b.max(factor * p.weight);
                }
            }
        }
        for entry in touched {
            scores[entry as usize] += best[entry as usize];
        }
        if !self.terms.contains_key(term) {
            self.score_parts(term, scores);
        }
    }

    /// A query word that is not in the catalogue may be a compound of two that are:
    /// "elterngeldantrag", "anwohnerparkausweis", "geburtsurkunde" (with the linking `s`).
    /// The best split whose first part is a known word adds the scores of both parts.
    fn score_parts(&self, term: &str, scores: &mut [f32]) {
        // Splits whose first part is a known word: (first part, second part stemmed).
        let mut splits: Vec<(String, String)> = Vec::new();
        let cuts: Vec<usize> = term.char_indices().map(|(i, _)| i).collect();
        let last = cuts.len().saturating_sub(3);
        for &cut in cuts.iter().take(last).skip(4) {
            let (left, right) = term.split_at(cut);
            let left = if self.terms.contains_key(left) {
                left.to_string()
            } else {
                let stemmed = (self.stem)(left);
                if !self.terms.contains_key(&stemmed) {
                    continue;
                }
                stemmed
            };
            let right = right
                .strip_prefix('s')
                .filter(|r| r.len() >= 4)
                .unwrap_or(right);
            splits.push((left, (self.stem)(right)));
        }
        // The best split: both parts known words, the longest first part; else the longest
        // first part whose second part is inside a known word (at most three tried, since
        // each is a walk over the vocabulary); else the longest first part alone.
        splits.sort_by_key(|(left, _)| std::cmp::Reverse(left.len()));
        let mut part = vec![0f32; scores.len()];
        let add = |part: &mut [f32], word: &str, factor: f32| {
            for p in self.terms.get(word).into_iter().flatten() {
                let s = &mut part[p.entry as usize];
                *s = s.max(factor * p.weight);
            }
        };
        let exact = splits.iter().find(|(_, r)| self.terms.contains_key(r));
        let chosen = if let Some((left, right)) = exact {
            let mut right_part = vec![0f32; scores.len()];
            add(&mut right_part, right, 3.0);
            Some((left, right_part))
        } else {
            let mut found = None;
            for (left, right) in splits.iter().take(3) {
                let mut right_part = vec![0f32; scores.len()];
                for word in self
                    .vocabulary
                    .iter()
                    .filter(|w| w.contains(right.as_str()))
                {
                    add(&mut right_part, word, 1.5);
                }
                if right_part.iter().any(|&s| s > 0.0) {
                    found = Some((left, right_part));
                    break;
                }
            }
            found.or_else(|| splits.first().map(|(l, _)| (l, vec![0f32; scores.len()])))
        };
        let Some((left, right_part)) = chosen else {
            return;
        };
        add(&mut part, left, 3.0);
        for ((s, l), r) in scores.iter_mut().zip(part).zip(right_part) {
            *s += 0.7 * (l + r);
        }
    }

    /// Searches; every query word must match somewhere (or one of its synonyms must), or, when
    /// no entry matches them all, as many as any entry does. Ranked by score, then id.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let words = terms(query, self.stem);
        if words.is_empty() {
            return Vec::new();
        }
        let n = self.entries.len();
        let mut total = vec![0f32; n];
        let mut matched = vec![0usize; n];
        let mut per_word = vec![0f32; n];
        for w in &words {
            per_word.iter_mut().for_each(|s| *s = 0.0);
            self.score_term(w, &mut per_word);
            if let Some(syns) = self.synonyms.get(w) {
                let mut syn_scores = vec![0f32; n];
                for s in syns {
                    self.score_term(s, &mut syn_scores);
                }
                for (a, b) in per_word.iter_mut().zip(syn_scores) {
                    *a += 0.8 * b;
                }
            }
            for i in 0..n {
                if per_word[i] > 0.0 {
                    matched[i] += 1;
                }
                total[i] += per_word[i];
            }
        }
        // Entries that match every word; when none does, those that match the most (a word
        // the catalogue does not know, such as "neuer", does not empty the result).
        let most = matched.iter().copied().max().unwrap_or(0);
        let mut hits: Vec<usize> = (0..n)
            .filter(|&i| most > 0 && matched[i] == most && total[i] > 0.0)
            .collect();
        // Equal scores: the shorter title first (it is more nearly what was asked for).
        hits.sort_by(|&a, &b| {
            total[b]
                .total_cmp(&total[a])
                .then_with(|| {
                    self.entries[a]
                        .title
                        .len()
                        .cmp(&self.entries[b].title.len())
                })
                .then_with(|| self.entries[a].id.cmp(&self.entries[b].id))
        });
        let mut hits: Vec<Hit> = hits
            .into_iter()
            .map(|i| Hit {
                id: self.entries[i].id.clone(),
                score: total[i],
            })
            .collect();
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests;
