//! Crash safety of submissions: a writer process submits from several threads and prints each
//! reference only after `submit` returned; the test kills it with SIGKILL at random moments,
//! reopens the store and checks that every acknowledged submission is there, complete, and that
//! no reference was issued twice.
//!
//! Drafts too: one more thread creates and saves drafts and moves them between the tree of
//! recent drafts and the idle one as fast as it can (the housekeeping's archive pass), and
//! acknowledges each draft's revision after a flush. After each kill every acknowledged draft
//! is there, at that revision or a later one, by id and by resume code, and an archive pass
//! leaves each draft in exactly one tree.
//!
//! With `--features postgres`, `postgres::acknowledged_submissions_survive_a_database_kill_9`
//! does the same against a PostgreSQL cluster of its own, and kills the database (every process
//! of the cluster) rather than the writer: that is where committed data lives.
//!
//! The writer is this test binary itself: `crash_writer_child` does nothing unless
//! `LOTSE_CRASH_WRITER` is set (`crash_pg_writer_child`: `LOTSE_CRASH_PG_WRITER`), and the test
//! re-executes the binary with that variable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lotse_store::{
    Backend, DEFAULT_DRAFT_TTL, DeterministicEntropy, Draft, DraftStore, IdempotencyKey,
    NewSubmission, PostkorbQuery, SledStore, SubmissionId, SubmissionStore, TenantId,
};
use serde_json::json;
use time::macros::datetime;

const WRITER_ENV: &str = "LOTSE_CRASH_WRITER";
const ROUND_ENV: &str = "LOTSE_CRASH_ROUND";
const ROUNDS: u64 = 24;
const WRITER_THREADS: u64 = 4;

fn tenant() -> TenantId {
    TenantId::new("heinsberg", "HEI").unwrap()
}

fn payload(key: &str) -> serde_json::Value {
    json!({"key": key, "antrag": {"name": "Erika Mustermann", "text": "x".repeat(300)}})
}

fn new_submission(entropy: &mut DeterministicEntropy, key: &str) -> NewSubmission {
    NewSubmission {
        id: SubmissionId::generate(entropy).unwrap(),
        tenant: tenant(),
        idempotency_key: IdempotencyKey::try_from(key.to_owned()).unwrap(),
        draft_id: None,
        workflow_id: "wohngeld".into(),
        workflow_version: "3".into(),
        data: payload(key),
        applicant: None,
        search_text: String::new(),
        notifications: vec![],
    }
}

/// The writer. Runs only when re-executed by the crash test, and never returns by itself.
#[test]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(WRITER_ENV) else {
        return;
    };
    let round: u64 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let store = SledStore::open(&dir).unwrap();
    write_until_killed(&store, round);
}

/// Says READY, then submits from [`WRITER_THREADS`] threads and writes drafts from one more,
/// acknowledging on stdout what returned; never returns.
fn write_until_killed<S: Backend>(store: &S, round: u64) {
    {
        let mut out = std::io::stdout().lock();
        out.write_all(b"READY\n").unwrap();
        out.flush().unwrap();
    }
    let now = datetime!(2026-05-04 10:00 UTC);
    std::thread::scope(|scope| {
        scope.spawn(move || draft_writer(store, round));
        for t in 0..WRITER_THREADS {
            scope.spawn(move || {
                let mut entropy = DeterministicEntropy::new(round * 1000 + t);
                for i in 0.. {
                    let key = format!("r{round}-t{t}-{i}");
                    let sub = store
                        .submit(new_submission(&mut entropy, &key), now)
                        .unwrap();
                    // Acknowledge only after submit returned: one whole line, flushed.
                    let line = format!("ACK {key} {} {}\n", sub.reference, sub.id);
                    let mut out = std::io::stdout().lock();
                    out.write_all(line.as_bytes()).unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

/// Creates and saves drafts, moves all of them to the idle tree every few operations (so saves
/// keep moving them back; nothing to move on PostgreSQL), prints `SAVED <id> <revision>` after
/// each write returned, and after each flush `DRAFT <id> <revision> <code>` for every draft it
/// wrote.
fn draft_writer<S: Backend>(store: &S, round: u64) {
    let mut entropy = DeterministicEntropy::new(round * 1000 + 999);
    let now = datetime!(2026-05-04 10:00 UTC);
    let mut drafts: Vec<Draft> = Vec::new();
    for i in 0u64.. {
        let written = if i % 4 == 0 {
            let d = Draft::new(
                &mut entropy,
                tenant(),
                "wohngeld",
                "3",
                json!({"step": "start", "i": i}),
                now,
                DEFAULT_DRAFT_TTL,
            )
            .unwrap();
            store.create_draft(&d).unwrap();
            drafts.push(d);
            drafts.len() - 1
        } else {
            let n = drafts.len();
            let at = (i as usize * 7) % n;
            let d = &mut drafts[at];
            let mut next = d.clone();
            next.state = json!({"step": "weiter", "i": i});
            next.touch(now, DEFAULT_DRAFT_TTL);
            *d = store.save_draft(next, d.revision).unwrap();
            at
        };
        let mut out = std::io::stdout().lock();
        let d = &drafts[written];
        let line = format!("SAVED {} {}\n", d.id, d.revision);
        out.write_all(line.as_bytes()).unwrap();
        out.flush().unwrap();
        drop(out);
        if i % 5 == 0 {
            store
                .archive_idle_drafts(now + time::Duration::days(1))
                .unwrap();
        }
        if i % 8 == 7 {
            store.flush().unwrap();
            let mut out = std::io::stdout().lock();
            for d in &drafts {
                let line = format!("DRAFT {} {} {}\n", d.id, d.revision, d.resume_code);
                out.write_all(line.as_bytes()).unwrap();
            }
            out.flush().unwrap();
        }
    }
}

/// A small xorshift for kill delays; seeded from the clock so runs differ (the seed is printed).
struct Jitter(u64);

impl Jitter {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn acknowledged_submissions_survive_kill_9() {
    if std::env::var(WRITER_ENV).is_ok() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    // A different kill schedule on every run; the seed is printed for reproducing a failure.
    #[allow(clippy::disallowed_methods)]
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut jitter = Jitter(seed);
    let exe = std::env::current_exe().unwrap();
    // key -> (reference, submission id), over all rounds
    let mut acked: HashMap<String, (String, String)> = HashMap::new();
    // draft id -> (revision made durable by a flush, resume code)
    let mut drafts: HashMap<String, (u64, String)> = HashMap::new();

    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "crash_writer_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ENV, &db)
            .env(ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    // A line cut by the kill has no newline and is no acknowledgement.
                    Ok(n) if n > 0 && line.ends_with('\n') => {
                        if tx.send(line.trim_end().to_owned()).is_err() {
                            break;
                        }
                    }
                    _ => break,
                }
            }
        });
        // Most rounds kill while writing; some kill while the store is still opening.
        let mut lines = Vec::new();
        if round % 4 != 3 {
            // The harness's own output shares the line ("test crash_writer_child ... READY").
            loop {
                let line = rx.recv_timeout(Duration::from_secs(20)).unwrap();
                let ready = line.ends_with("READY");
                lines.push(line);
                if ready {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5 + jitter.next(250)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        let mut this_round = 0;
        lines.extend(rx.try_iter());
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            if let ["ACK", key, reference, id] = parts[..] {
                let earlier = acked.insert(key.to_owned(), (reference.to_owned(), id.to_owned()));
                assert!(earlier.is_none(), "key {key} acknowledged twice");
                this_round += 1;
            }
            if let ["DRAFT", id, revision, code] = parts[..] {
                drafts.insert(id.to_owned(), (revision.parse().unwrap(), code.to_owned()));
            }
        }

        // Reopen: no repair step, every acknowledged submission present and complete.
        let store = SledStore::open(&db).unwrap_or_else(|e| panic!("round {round}: {e}"));
        for (key, (reference, id)) in &acked {
            let sub = store
                .submission(&id.parse().unwrap())
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged {reference} lost"));
            assert_eq!(&sub.reference.to_string(), reference);
            assert_eq!(sub.data, payload(key));
            assert_eq!(sub.idempotency_key.as_str(), key);
        }
        let all = store.submissions(&tenant(), None, usize::MAX).unwrap();
        let refs: HashSet<String> = all.iter().map(|s| s.reference.to_string()).collect();
        assert_eq!(
            refs.len(),
            all.len(),
            "round {round}: a reference was issued twice"
        );
        let ids: HashSet<_> = all.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), all.len());
        // Numbers are dense up to the highest one: a counter never went backwards.
        let max = all.iter().map(|s| s.reference.number()).max().unwrap_or(0);
        assert_eq!(
            max as usize,
            all.len(),
            "round {round}: gap or reuse in references"
        );
        // The Postkorb's counters were written in the submits' transactions: they agree with
        // the submissions and with a count of the index entries (a date range walks them).
        let counted = store
            .postkorb(&tenant(), &PostkorbQuery::default())
            .unwrap();
        assert_eq!(
            counted.total as usize,
            all.len(),
            "round {round}: Postkorb counters"
        );
        let walked = store
            .postkorb(
                &tenant(),
                &PostkorbQuery {
                    from: Some(datetime!(2000-01-01 0:00 UTC)),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            counted.counts, walked.counts,
            "round {round}: counters and entries"
        );
        // Every flushed draft, at its revision or later, by id and by code, in one tree.
        for (id, (revision, code)) in &drafts {
            let d = store
                .draft(&id.parse().unwrap())
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: flushed draft {id} lost"));
            assert!(
                d.revision >= *revision,
                "round {round}: draft {id} went back"
            );
            let by_code = store.draft_by_resume_code(&code.parse().unwrap()).unwrap();
            assert_eq!(by_code.map(|b| b.id), Some(d.id));
        }
        assert_eq!(
            store
                .sweep_expired(datetime!(2026-05-04 10:00 UTC))
                .unwrap(),
            0
        );
        // An archive pass over everything leaves each draft in exactly one tree, also where a
        // kill cut a move short.
        store
            .archive_idle_drafts(datetime!(2026-05-06 10:00 UTC))
            .unwrap();
        let mut export = Vec::new();
        store.export_jsonl(&mut export, |_| {}).unwrap();
        let exported = String::from_utf8(export)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("{\"tree\":\"drafts\""))
            .count();
        assert_eq!(
            store.draft_count(),
            exported,
            "round {round}: a copy left by an interrupted move survived the archive pass"
        );
        // A repeated submit of an acknowledged key returns the same submission.
        if let Some((key, (reference, _))) = acked.iter().next() {
            let mut e = DeterministicEntropy::new(u64::MAX - round);
            let again = store
                .submit(new_submission(&mut e, key), datetime!(2026-05-04 10:00 UTC))
                .unwrap();
            assert_eq!(&again.reference.to_string(), reference);
        }
        eprintln!(
            "round {round}: {this_round} acknowledged, {} stored in total",
            all.len()
        );
    }
    eprintln!(
        "{ROUNDS} kills, {} acknowledged submissions and {} flushed drafts checked, {:.1} s",
        acked.len(),
        drafts.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(acked.len() > 100, "the writer hardly wrote anything");
    assert!(drafts.len() > 20, "the draft writer hardly wrote anything");
}

/// The same on PostgreSQL, where the crash that matters is the database's: the test kills the
/// whole cluster (postmaster and every backend, WAL writer included) with SIGKILL while the
/// writer submits and saves drafts, then the writer, restarts the cluster (crash recovery) and
/// checks every acknowledged submission and every flushed draft. Draft writes commit
/// asynchronously, so saves acknowledged without a flush may be lost (the window of
/// docs/store.md): the test counts them and prints the count.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use lotse_store::{PgOptions, PgStore, pg_testing};

    const PG_WRITER_ENV: &str = "LOTSE_CRASH_PG_WRITER";
    const PG_ROUNDS: u64 = 8;

    #[test]
    fn crash_pg_writer_child() {
        let Ok(url) = std::env::var(PG_WRITER_ENV) else {
            return;
        };
        let round: u64 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
        let mut options = PgOptions::new(url);
        options.max_connections = 8;
        let store = PgStore::connect(&options).unwrap();
        write_until_killed(&store, round);
    }

    #[test]
    fn acknowledged_submissions_survive_a_database_kill_9() {
        if std::env::var(PG_WRITER_ENV).is_ok() || std::env::var(WRITER_ENV).is_ok() {
            return;
        }
        let Some(cluster) = pg_testing::PrivateCluster::start().unwrap() else {
            return;
        };
        let started = Instant::now();
        let url = cluster.create_database("lotse_crash").unwrap();
        // Migrated once here, so that no round is killed in the middle of the first migration.
        PgStore::connect(&PgOptions::new(url.clone())).unwrap();
        #[allow(clippy::disallowed_methods)]
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("PostgreSQL crash test seed {seed}");
        let mut jitter = Jitter(seed);
        let exe = std::env::current_exe().unwrap();
        let mut acked: HashMap<String, (String, String)> = HashMap::new();
        let mut drafts: HashMap<String, (u64, String)> = HashMap::new();
        let mut lost_saves = 0u64;
        let mut unflushed_saves = 0u64;

        for round in 0..PG_ROUNDS {
            let mut child = Command::new(&exe)
                .args([
                    "postgres::crash_pg_writer_child",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(PG_WRITER_ENV, &url)
                .env(ROUND_ENV, round.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = mpsc::channel::<String>();
            let reader = std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                let mut line = String::new();
                loop {
                    line.clear();
                    match r.read_line(&mut line) {
                        Ok(n) if n > 0 && line.ends_with('\n') => {
                            if tx.send(line.trim_end().to_owned()).is_err() {
                                break;
                            }
                        }
                        _ => break,
                    }
                }
            });
            let mut lines = Vec::new();
            loop {
                let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
                let ready = line.ends_with("READY");
                lines.push(line);
                if ready {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(100 + jitter.next(400)));
            // The database dies first; whatever the writer prints after that is an error.
            cluster.kill_9().unwrap();
            child.kill().unwrap();
            child.wait().unwrap();
            reader.join().unwrap();
            lines.extend(rx.try_iter());
            let mut this_round = 0;
            // The last revision the writer saw returned, per draft, flushed or not.
            let mut saved: HashMap<String, u64> = HashMap::new();
            for line in lines {
                let parts: Vec<&str> = line.split(' ').collect();
                match parts[..] {
                    ["ACK", key, reference, id] => {
                        let earlier =
                            acked.insert(key.to_owned(), (reference.to_owned(), id.to_owned()));
                        assert!(earlier.is_none(), "key {key} acknowledged twice");
                        this_round += 1;
                    }
                    ["DRAFT", id, revision, code] => {
                        drafts.insert(id.to_owned(), (revision.parse().unwrap(), code.to_owned()));
                    }
                    ["SAVED", id, revision] => {
                        saved.insert(id.to_owned(), revision.parse().unwrap());
                    }
                    _ => {}
                }
            }

            cluster.restart().unwrap();
            let store = PgStore::connect(&PgOptions::new(url.clone()))
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            for (key, (reference, id)) in &acked {
                let sub = store
                    .submission(&id.parse().unwrap())
                    .unwrap()
                    .unwrap_or_else(|| panic!("round {round}: acknowledged {reference} lost"));
                assert_eq!(&sub.reference.to_string(), reference);
                assert_eq!(sub.data, payload(key));
                assert_eq!(sub.idempotency_key.as_str(), key);
            }
            let all = store.submissions(&tenant(), None, usize::MAX).unwrap();
            let refs: HashSet<String> = all.iter().map(|s| s.reference.to_string()).collect();
            assert_eq!(
                refs.len(),
                all.len(),
                "round {round}: a reference was issued twice"
            );
            let max = all.iter().map(|s| s.reference.number()).max().unwrap_or(0);
            assert_eq!(
                max as usize,
                all.len(),
                "round {round}: gap or reuse in references"
            );
            // The Postkorb's counters were written in the submits' transactions: they agree with
            // the submissions and with a count of the index entries (a date range walks them).
            let counted = store
                .postkorb(&tenant(), &PostkorbQuery::default())
                .unwrap();
            assert_eq!(
                counted.total as usize,
                all.len(),
                "round {round}: Postkorb counters"
            );
            let walked = store
                .postkorb(
                    &tenant(),
                    &PostkorbQuery {
                        from: Some(datetime!(2000-01-01 0:00 UTC)),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(
                counted.counts, walked.counts,
                "round {round}: counters and entries"
            );
            for (id, (revision, code)) in &drafts {
                let d = store
                    .draft(&id.parse().unwrap())
                    .unwrap()
                    .unwrap_or_else(|| panic!("round {round}: flushed draft {id} lost"));
                assert!(
                    d.revision >= *revision,
                    "round {round}: draft {id} went back"
                );
                let by_code = store.draft_by_resume_code(&code.parse().unwrap()).unwrap();
                assert_eq!(by_code.map(|b| b.id), Some(d.id));
            }
            // Saves after the last flush: allowed to be lost (the window); counted.
            for (id, revision) in &saved {
                let flushed = drafts.get(id).map(|(r, _)| *r);
                if flushed.is_some_and(|f| f >= *revision) {
                    continue;
                }
                unflushed_saves += 1;
                let now_at = store
                    .draft(&id.parse().unwrap())
                    .unwrap()
                    .map(|d| d.revision);
                match now_at {
                    Some(r) if r >= *revision => {}
                    _ => lost_saves += 1,
                }
            }
            if let Some((key, (reference, _))) = acked.iter().next() {
                let mut e = DeterministicEntropy::new(u64::MAX - round);
                let again = store
                    .submit(new_submission(&mut e, key), datetime!(2026-05-04 10:00 UTC))
                    .unwrap();
                assert_eq!(&again.reference.to_string(), reference);
            }
            store.close().unwrap();
            eprintln!(
                "round {round}: {this_round} acknowledged, {} stored in total",
                all.len()
            );
        }
        eprintln!(
            "{PG_ROUNDS} kills of the database, {} acknowledged submissions (0 lost) and {} \
             flushed drafts checked; {lost_saves} of {unflushed_saves} draft writes that were \
             acknowledged after the last flush were lost; {:.1} s",
            acked.len(),
            drafts.len(),
            started.elapsed().as_secs_f64()
        );
        assert!(acked.len() > 50, "the writer hardly wrote anything");
        assert!(drafts.len() > 5, "the draft writer hardly wrote anything");
    }
}
