//! Load check for the Postkorb: seeds one tenant with N submissions through the store API
//! (`submit_batch`, 1,000 per batch), changes the status of 11 % of them, assigns 3 % to 20
//! staff members and gives 1 % a follow-up date (each change one durable store call, four
//! threads), then measures the Postkorb queries a case worker runs: the median (and p90) of
//! 31 runs each, the first run as a warm-up.
//!
//!     cargo run --release -p lotse-store --features postgres --example postkorb_load -- \
//!         sled /tmp/pk-1m 1000000
//!     cargo run --release -p lotse-store --features postgres --example postkorb_load -- \
//!         postgres postgres://postgres@127.0.0.1:PORT/pk1m 1000000
//!
//! A store that holds submissions already is not seeded again (so `measure` can repeat on
//! the same data); the seeding figures are printed when it seeds. With `walk` as a fourth
//! argument it also times the full walk (a date range over everything: each entry read and
//! decoded), the shape of the list before the indexes. Results go to stdout as `key: value`
//! lines; docs/BENCHMARKS.md records a run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use lotse_store::{
    AccountId, Actor, AnyStore, CaseStore, DeterministicEntropy, Entropy, IdempotencyKey,
    NewSubmission, PostkorbQuery, SledStore, Status, StatusChange, StatusStore, SubmissionId,
    SubmissionStore, TenantId,
};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: OffsetDateTime = datetime!(2026-01-05 08:00 UTC);
const RUNS: usize = 31;
const BATCH: usize = 1_000;

const FIRST: [&str; 40] = [
    "Anna",
    "Maria",
    "Emma",
    "Sophie",
    "Lena",
    "Mia",
    "Hannah",
    "Lea",
    "Laura",
    "Julia",
    "Sarah",
    "Lisa",
    "Katharina",
    "Johanna",
    "Clara",
    "Paula",
    "Greta",
    "Ida",
    "Frieda",
    "Elif",
    "Lukas",
    "Leon",
    "Paul",
    "Jonas",
    "Felix",
    "Max",
    "Ben",
    "Elias",
    "Noah",
    "Finn",
    "Tim",
    "Jan",
    "Niklas",
    "Moritz",
    "Jakob",
    "David",
    "Tobias",
    "Mehmet",
    "Piotr",
    "Ahmad",
];
const SYLLABLES: [&str; 24] = [
    "Schm", "Müll", "Wag", "Beck", "Hoff", "Koch", "Rich", "Klein", "Wolf", "Schr", "Neu",
    "Schwarz", "Zimm", "Braun", "Krüg", "Hof", "Hart", "Lang", "Werm", "Kaus", "Bert", "Jans",
    "Peet", "Heid",
];
const ENDINGS: [&str; 12] = [
    "er", "mann", "ers", "ke", "ler", "ig", "en", "hoff", "ing", "rath", "bach", "kamp",
];
const CITIES: [&str; 10] = [
    "Heinsberg",
    "Erkelenz",
    "Geilenkirchen",
    "Hückelhoven",
    "Wegberg",
    "Übach-Palenberg",
    "Wassenberg",
    "Gangelt",
    "Selfkant",
    "Waldfeucht",
];
const WORKFLOWS: [&str; 3] = ["hundesteuer", "bewohnerparkausweis", "sondernutzung"];

fn tenant() -> TenantId {
    TenantId::new("heinsberg", "HEI").unwrap()
}

/// A small generator for picks (the data must be the same on every run and backend).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 24 × 24 × 12 = 6,912 surnames: a name search finds about 150 of a million.
fn surname(r: &mut Rng) -> String {
    let a = SYLLABLES[r.below(SYLLABLES.len())];
    let b = SYLLABLES[r.below(SYLLABLES.len())].to_lowercase();
    format!("{a}{b}{}", ENDINGS[r.below(ENDINGS.len())])
}

fn new_submission(e: &mut DeterministicEntropy, r: &mut Rng, i: usize) -> NewSubmission {
    let first = FIRST[r.below(FIRST.len())];
    let last = surname(r);
    let city = CITIES[r.below(CITIES.len())];
    let street = format!("{}weg", SYLLABLES[r.below(SYLLABLES.len())]);
    let number = 1 + r.below(120);
    let workflow = WORKFLOWS[[0, 0, 0, 1, 1, 2][r.below(6)]];
    let dog = ["Bello", "Luna", "Balu", "Kira", "Rocky", "Emma", "Sammy"][r.below(7)];
    let answers = json!({
        "person": {"anrede": "Frau", "vorname": first, "nachname": last,
                   "geburtsdatum": "1980-04-01"},
        "anschrift": {"strasse": street, "hausnummer": number.to_string(), "plz": "52525",
                      "ort": city},
        "kontakt": {"email": format!("{}.{}@example.de", first.to_lowercase(), i)},
        "hunde": [{"name": dog, "rasse": "Mischling"}],
    });
    let search_text = format!(
        "Frau {first} {last} 1980-04-01 {street} {number} 52525 {city} {}.{i}@example.de {dog} Mischling",
        first.to_lowercase()
    );
    NewSubmission {
        id: SubmissionId::generate(e).unwrap(),
        tenant: tenant(),
        idempotency_key: IdempotencyKey::try_from(format!("load-{i}")).unwrap(),
        draft_id: None,
        workflow_id: workflow.into(),
        workflow_version: "1".into(),
        data: json!({"workflow_id": workflow, "answers": answers}),
        applicant: Some(format!("{first} {last}")),
        search_text,
        notifications: vec![],
    }
}

fn accounts() -> Vec<AccountId> {
    let mut e = DeterministicEntropy::new(7);
    (0..20)
        .map(|_| {
            let mut b = [0u8; 16];
            e.fill_bytes(&mut b).unwrap();
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
                .parse()
                .unwrap()
        })
        .collect()
}

fn seed(store: &AnyStore, n: usize) {
    let mut e = DeterministicEntropy::new(42);
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let start = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for b in 0..n.div_ceil(BATCH) {
        let batch: Vec<NewSubmission> = (b * BATCH..((b + 1) * BATCH).min(n))
            .map(|i| new_submission(&mut e, &mut r, i))
            .collect();
        // A batch every 12 hours: a million submissions span about 16 months.
        let at = T0 + Duration::hours(12 * b as i64);
        let stored = store.submit_batch(batch, at).unwrap();
        ids.extend(stored.iter().map(|s| (s.id, s.submitted)));
        if (b + 1) % 100 == 0 {
            eprintln!("seeded {}", ids.len());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("seed_submissions: {n}");
    println!("seed_submissions_s: {secs:.1}");
    println!("seed_submissions_per_s: {:.0}", n as f64 / secs);

    // Case work: status changes, assignments, follow-up dates, each one durable call.
    let staff = accounts();
    let office = Actor::Office {
        account: staff[0].to_string(),
    };
    let mut work: Vec<(usize, u8)> = Vec::new();
    for i in 0..n {
        let x = r.below(1000);
        if x < 50 {
            work.push((i, 1)); // in Bearbeitung
        } else if x < 60 {
            work.push((i, 2)); // Rückfrage
        } else if x < 110 {
            work.push((i, 3)); // closed
        }
        let y = r.below(1000);
        if y < 30 {
            work.push((i, 4)); // assigned
        }
        if y >= 990 {
            work.push((i, 5)); // follow-up
        }
    }
    let start = Instant::now();
    let threads = 4;
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (work, ids, staff, office) = (&work, &ids, &staff, &office);
            scope.spawn(move || {
                for (k, (i, what)) in work.iter().enumerate() {
                    if k % threads != t {
                        continue;
                    }
                    let (id, submitted) = ids[*i];
                    let at = submitted + Duration::days(1);
                    let change = |status| StatusChange {
                        status,
                        at,
                        actor: office.clone(),
                        note: None,
                    };
                    match what {
                        1 => store.change_status(&id, change(Status::InBearbeitung)),
                        2 => store.change_status(&id, change(Status::Rueckfrage)),
                        3 => store.change_status(&id, change(Status::Abgeschlossen)),
                        4 => store.assign(&id, Some(staff[*i % staff.len()]), office.clone(), at),
                        _ => {
                            // Spread over 120 days around "today" of the measurements.
                            let day = T0.date() + Duration::days(440 + (*i % 120) as i64);
                            store.set_follow_up(&id, Some(day), office.clone(), at)
                        }
                    }
                    .unwrap();
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!("seed_case_changes: {}", work.len());
    println!("seed_case_changes_s: {secs:.1}");
}

fn median_ms(mut f: impl FnMut()) -> (f64, f64) {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .skip(1)
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    (times[times.len() / 2], times[times.len() * 9 / 10])
}

fn measure(store: &AnyStore, n: usize, walk: bool) {
    let t = tenant();
    let staff = accounts();
    let today = T0.date() + Duration::days(500);
    let page = |q: PostkorbQuery| PostkorbQuery { limit: 25, ..q };
    let mut cases: Vec<(&str, PostkorbQuery)> = vec![
        ("first_page", page(PostkorbQuery::default())),
        (
            "page_10",
            page(PostkorbQuery {
                offset: 225,
                ..Default::default()
            }),
        ),
        (
            "counts_only",
            PostkorbQuery {
                limit: 0,
                ..Default::default()
            },
        ),
        (
            "status_eingegangen",
            page(PostkorbQuery {
                status: Some(Status::Eingegangen),
                ..Default::default()
            }),
        ),
        (
            "status_rueckfrage",
            page(PostkorbQuery {
                status: Some(Status::Rueckfrage),
                ..Default::default()
            }),
        ),
        (
            "service",
            page(PostkorbQuery {
                workflow: Some("sondernutzung".into()),
                ..Default::default()
            }),
        ),
        (
            "service_and_status",
            page(PostkorbQuery {
                workflow: Some("sondernutzung".into()),
                status: Some(Status::InBearbeitung),
                ..Default::default()
            }),
        ),
        (
            "mine",
            page(PostkorbQuery {
                assignee: Some(staff[3]),
                ..Default::default()
            }),
        ),
        (
            "mine_and_status",
            page(PostkorbQuery {
                assignee: Some(staff[3]),
                status: Some(Status::Eingegangen),
                ..Default::default()
            }),
        ),
        (
            "due_today_or_overdue",
            page(PostkorbQuery {
                due_by: Some(today),
                ..Default::default()
            }),
        ),
        (
            "reference_whole",
            page(PostkorbQuery {
                reference: Some(format!("HEI-2026-{:06}", n / 3)),
                ..Default::default()
            }),
        ),
        (
            "reference_number",
            page(PostkorbQuery {
                reference: Some(format!("{}", n / 7)),
                ..Default::default()
            }),
        ),
        (
            "one_week",
            page(PostkorbQuery {
                from: Some(T0 + Duration::days(300)),
                until: Some(T0 + Duration::days(307)),
                ..Default::default()
            }),
        ),
    ];
    // Searches: a surname, first and last name, a street, a prefix, a common word.
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let mut e = DeterministicEntropy::new(42);
    let sample = new_submission(&mut e, &mut r, 0);
    let name = sample.applicant.clone().unwrap();
    let last = name.split(' ').nth(1).unwrap().to_string();
    for (label, text) in [
        ("search_surname", last.clone()),
        ("search_first_and_last", name.clone()),
        ("search_surname_prefix", last.chars().take(5).collect()),
        ("search_street_and_city", "Kochweg Gangelt".to_string()),
        ("search_common_word", "Heinsberg".to_string()),
    ] {
        cases.push((
            label,
            page(PostkorbQuery {
                text: Some(text),
                ..Default::default()
            }),
        ));
    }
    // Paging on beyond the matches a search counts (SEARCH_COUNT_LIMIT): page 81.
    cases.push((
        "search_street_and_city_page_81",
        page(PostkorbQuery {
            text: Some("Kochweg Gangelt".into()),
            offset: 2_000,
            ..Default::default()
        }),
    ));
    if walk {
        cases.push((
            "full_walk",
            page(PostkorbQuery {
                from: Some(T0 - Duration::days(1)),
                ..Default::default()
            }),
        ));
    }
    for (label, q) in &cases {
        let mut found = None;
        let (median, p90) = median_ms(|| {
            let p = store.postkorb(&t, q).unwrap();
            found = Some((p.total, p.entries.len(), p.truncated));
        });
        let (total, shown, truncated) = found.unwrap();
        println!(
            "{label}: median_ms={median:.2} p90_ms={p90:.2} total={total} shown={shown}{}",
            if truncated { " truncated" } else { "" }
        );
    }
    // Every match of the two common words, paging by 1,000: none lost, none twice.
    let start = Instant::now();
    let mut seen = std::collections::HashSet::new();
    loop {
        let p = store
            .postkorb(
                &t,
                &PostkorbQuery {
                    text: Some("Kochweg Gangelt".into()),
                    offset: seen.len(),
                    limit: 1_000,
                    ..Default::default()
                },
            )
            .unwrap();
        let n = p.entries.len();
        for e in p.entries {
            assert!(seen.insert(e.id), "a match on two pages");
        }
        if n < 1_000 {
            break;
        }
    }
    println!(
        "search_street_and_city_every_page: found={} ms={:.1}",
        seen.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (backend, place, n) = (&args[1], &args[2], args[3].parse::<usize>().unwrap());
    let walk = args.get(4).is_some_and(|a| a == "walk");
    let start = Instant::now();
    let store: AnyStore = match backend.as_str() {
        "sled" => AnyStore::new(SledStore::open(place).unwrap()),
        #[cfg(feature = "postgres")]
        "postgres" => AnyStore::new(
            lotse_store::PgStore::connect(&lotse_store::PgOptions::new(place.clone())).unwrap(),
        ),
        other => panic!("unknown backend {other}"),
    };
    println!("backend: {backend}");
    println!("open_ms: {:.1}", start.elapsed().as_secs_f64() * 1e3);
    let have = store
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                limit: 0,
                ..Default::default()
            },
        )
        .unwrap()
        .total;
    if have == 0 {
        seed(&store, n);
        // What autovacuum does in a while on a live database: statistics and the visibility
        // map (index-only scans), done at once here so the figures do not depend on its timing.
        #[cfg(feature = "postgres")]
        if backend == "postgres" {
            lotse_store::pg_testing::execute(place, "VACUUM ANALYZE").unwrap();
        }
    } else {
        println!("submissions_present: {have}");
    }
    measure(&store, n, walk);
    store.flush().unwrap();
}
