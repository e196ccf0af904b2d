//! Two real `lotse serve` processes on one PostgreSQL database, used like a load balancer would:
//! applications start on one node and continue on the other, submissions go through both at
//! once, and one node is killed (SIGKILL) in the middle. Checked: no acknowledged submission is
//! lost, no reference is issued twice, every draft is resumable on the surviving node, and the
//! CSRF secret, the resume-code limit and the signing certificate are the same on both nodes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lotse_store::{
    DraftStore, PgOptions, PgStore, ResumeCode, SubmissionId, SubmissionStore, TenantId,
};

const TENANT: &str = "heinsberg";
const WORKFLOW: &str = "hundesteuer-anmeldung";

struct Node {
    port: u16,
    child: Child,
    _data: tempfile::TempDir,
}

impl Node {
    fn start(url_var_value: &str) -> Node {
        let data = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(data.path().join("serve.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_lotse"))
            .arg("serve")
            .env("LOTSE_LISTEN", format!("127.0.0.1:{port}"))
            .env("LOTSE_DATA_DIR", data.path().join("data"))
            .env(
                "LOTSE_PROJECT_DIR",
                Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
            )
            .env("LOTSE_STORE_BACKEND", "postgres")
            .env("LOTSE_STORE_URL_ENV", "LOTSE_NODES_TEST_DB")
            .env("LOTSE_NODES_TEST_DB", url_var_value)
            .env("LOTSE_STORE_MAX_CONNECTIONS", "8")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Node {
            port,
            child,
            _data: data,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._data.path().join("serve.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(r) = request(self.port, "GET", "/healthz", None)
                && r.status == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("node exited with {status}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("node on port {} did not start: {}", self.port, self.log());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    location: Option<String>,
    /// The `name=value` of each `Set-Cookie`.
    cookies: Vec<String>,
    body: Vec<u8>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
fn request(port: u16, method: &str, path: &str, form: Option<&str>) -> std::io::Result<Response> {
    request_as(port, method, path, form, "")
}

/// [`request`] with a `Cookie` header (a signed-in case worker), unless `cookie` is empty.
fn request_as(
    port: u16,
    method: &str,
    path: &str,
    form: Option<&str>,
    cookie: &str,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = form.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nSec-Fetch-Site: same-origin\r\n"
    );
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut location = None;
    let mut cookies = Vec::new();
    let mut chunked = false;
    for l in lines {
        let (k, v) = l.split_once(':').unwrap_or((l, ""));
        match k.to_ascii_lowercase().as_str() {
            "location" => location = Some(v.trim().to_string()),
            "set-cookie" => cookies.extend(v.split(';').next().map(|c| c.trim().to_string())),
            "transfer-encoding" => chunked = v.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok(Response {
        status,
        location,
        cookies,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_string()
}

/// Starts an application on node `on` and returns the draft's path.
fn start(on: u16) -> String {
    let service = format!("/{TENANT}/leistung/{WORKFLOW}");
    let page = request(on, "GET", &service, None).unwrap();
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.text(), "_csrf");
    let started = request(on, "POST", &service, Some(&form(&[("_csrf", &csrf)]))).unwrap();
    assert_eq!(started.status, 303, "{}", started.text());
    started.location.unwrap()
}

/// Shows the draft on node `show` and posts the answers to node `post`.
fn step(show: u16, post: u16, url: &str, answers: &[(&str, &str)]) -> Response {
    let mut page = request(show, "GET", url, None).unwrap();
    // The draft's link leads to the page of the step where the application stands.
    if page.status == 303 {
        page = request(show, "GET", page.location.as_deref().unwrap(), None).unwrap();
    }
    assert_eq!(page.status, 200, "{}", page.text());
    let text = page.text();
    let csrf = hidden(&text, "_csrf");
    let rev = hidden(&text, "_rev");
    let mut pairs = vec![
        ("_csrf", csrf.as_str()),
        ("_rev", rev.as_str()),
        ("_action", "weiter"),
    ];
    pairs.extend_from_slice(answers);
    request(post, "POST", url, Some(&form(&pairs))).unwrap()
}

const STEPS: &[&[(&str, &str)]] = &[
    &[
        ("halter.anrede", "Frau"),
        ("halter.vorname", "Anna"),
        ("halter.nachname", "Schmitz"),
        ("halter.geburtsdatum", "12.04.1985"),
        ("anschrift.strasse", "Valkenburger Straße"),
        ("anschrift.hausnummer", "45"),
        ("anschrift.plz", "52525"),
        ("anschrift.ort", "Heinsberg"),
        ("kontakt.email", "anna@example.org"),
    ],
    &[
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.0.geburtsdatum", "2022-03-01"),
        ("hunde.0.kategorie", "normal"),
    ],
    &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")],
    &[("ermaessigung", "nein")],
    &[("lastschrift", "nein")],
];

/// Walks an application to its review page, alternating the nodes at every step.
fn fill(a: u16, b: u16, url: &str) {
    for (i, answers) in STEPS.iter().enumerate() {
        let (show, post) = if i % 2 == 0 { (a, b) } else { (b, a) };
        let r = step(show, post, url, answers);
        assert_eq!(r.status, 303, "step {i}: {}", r.text());
    }
    let review = request(b, "GET", &format!("{url}/pruefen"), None).unwrap();
    assert!(
        review.text().contains("Bitte prüfen Sie Ihre Angaben"),
        "{}",
        review.text()
    );
}

/// Sends the reviewed application through `node`: `Ok(Some(location))` on the 303 that
/// acknowledges it, `Ok(None)` on another answer, `Err` when the node is gone.
fn submit(show: u16, node: u16, url: &str) -> std::io::Result<Option<String>> {
    let review = request(show, "GET", &format!("{url}/pruefen"), None)?;
    if review.status != 200 {
        return Ok(None);
    }
    let text = review.text();
    let pairs = form(&[
        ("_csrf", &hidden(&text, "_csrf")),
        ("_rev", &hidden(&text, "_rev")),
        ("_declare", "richtig"),
        ("_action", "absenden"),
    ]);
    let sent = request(node, "POST", url, Some(&pairs))?;
    Ok(if sent.status == 303 {
        sent.location.filter(|l| l.contains("/eingang/"))
    } else {
        None
    })
}

#[test]
fn two_nodes_share_one_database_and_survive_losing_one() {
    let url = match lotse_store::pg_testing::test_database() {
        Ok(Some(url)) => url,
        Ok(None) => return, // skipped loudly by the helper
        Err(e) => panic!("{e}"),
    };
    // Both nodes start at once: migrations, the CSRF secret and the development keys race.
    let (mut a, mut b) = std::thread::scope(|s| {
        let ha = s.spawn(|| Node::start(&url));
        let hb = s.spawn(|| Node::start(&url));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    a.wait_ready();
    b.wait_ready();
    let (pa, pb) = (a.port, b.port);

    // Start on A, continue on B, and back: pages of one node post to the other.
    let first = start(pa);
    fill(pa, pb, &first);

    // One receipt from each node; both verify with the same certificate.
    let second = start(pb);
    fill(pb, pa, &second);
    let done_a = submit(pb, pa, &first).unwrap().expect("submitted on A");
    let done_b = submit(pa, pb, &second).unwrap().expect("submitted on B");
    let mut certificates = HashSet::new();
    for (done, other) in [(&done_a, pb), (&done_b, pa)] {
        let page = request(other, "GET", done, None).unwrap();
        assert_eq!(page.status, 200);
        assert!(page.text().contains("HEI-2026-") || page.text().contains("HEI-"));
        let pdf = request(other, "GET", &format!("{done}/quittung.pdf"), None).unwrap();
        assert_eq!(pdf.status, 200, "the receipt is served by the other node");
        let v = lotse_receipt::verify_receipt(&pdf.body).unwrap();
        assert!(v.valid && v.covers_whole_file);
        certificates.insert(v.certificate_sha256.unwrap());
    }
    assert_eq!(
        certificates.len(),
        1,
        "both nodes sign with one certificate"
    );

    // Wrong resume codes count across nodes: the token of A's page works on B, and the
    // fifth wrong code (limit 5 per 15 minutes) is refused wherever it arrives.
    let service = request(pa, "GET", &format!("/{TENANT}/leistung/{WORKFLOW}"), None).unwrap();
    let csrf = hidden(&service.text(), "_csrf");
    let wrong = form(&[("_csrf", &csrf), ("code", "ABCD-EFGH-JKMN-PQRS")]);
    for i in 0..5 {
        let node = if i % 2 == 0 { pa } else { pb };
        let r = request(node, "POST", &format!("/{TENANT}/fortsetzen"), Some(&wrong)).unwrap();
        assert_eq!(r.status, 404, "attempt {i}: {}", r.text());
    }
    let blocked = request(pb, "POST", &format!("/{TENANT}/fortsetzen"), Some(&wrong)).unwrap();
    assert_eq!(blocked.status, 429);

    // Applications ready for submission, plus some left half-way.
    let ready: Vec<String> = (0..16)
        .map(|i| {
            let (x, y) = if i % 2 == 0 { (pa, pb) } else { (pb, pa) };
            let d = start(x);
            fill(x, y, &d);
            d
        })
        .collect();
    let halfway: Vec<String> = (0..4)
        .map(|i| {
            let (x, y) = if i % 2 == 0 { (pa, pb) } else { (pb, pa) };
            let d = start(x);
            assert_eq!(step(x, y, &d, STEPS[0]).status, 303);
            d
        })
        .collect();

    // Submit through both nodes at once; kill A (SIGKILL) once a few were acknowledged.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let failed_on_a: Arc<Mutex<Vec<String>>> = Arc::default();
    std::thread::scope(|s| {
        for (t, chunk) in ready.chunks(2).enumerate() {
            let node = if t % 2 == 0 { pa } else { pb };
            let (acked, count, failed) = (acked.clone(), count.clone(), failed_on_a.clone());
            s.spawn(move || {
                for d in chunk {
                    match submit(node, node, d) {
                        Ok(Some(loc)) => {
                            acked.lock().unwrap().push(loc);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(None) | Err(_) => failed.lock().unwrap().push(d.clone()),
                    }
                }
            });
        }
        let count = count.clone();
        let a = &mut a;
        s.spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while count.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            a.child.kill().unwrap();
            a.child.wait().unwrap();
        });
    });
    assert!(request(pa, "GET", "/healthz", None).is_err(), "A is gone");

    eprintln!(
        "acknowledged before and around the kill: {}; unanswered (retried on B): {}",
        acked.lock().unwrap().len(),
        failed_on_a.lock().unwrap().len()
    );
    // Citizens whose answer never came retry on B: idempotent, no second submission.
    for d in failed_on_a.lock().unwrap().iter() {
        if let Some(loc) = submit(pb, pb, d).unwrap() {
            acked.lock().unwrap().push(loc);
        }
    }

    // No acknowledged submission is lost, and no reference was issued twice.
    let store = PgStore::connect(&PgOptions::new(url.clone())).unwrap();
    let tenant = TenantId::new(TENANT, "HEI").unwrap();
    let acked = acked.lock().unwrap().clone();
    for loc in &acked {
        let id: SubmissionId = loc.rsplit('/').next().unwrap().parse().unwrap();
        assert!(
            store.submission(&id).unwrap().is_some(),
            "acknowledged submission {id} is lost"
        );
        let page = request(pb, "GET", loc, None).unwrap();
        assert_eq!(page.status, 200, "{loc} on the surviving node");
    }
    let all = store.submissions(&tenant, None, 10_000).unwrap();
    let references: HashSet<String> = all.iter().map(|s| s.reference.to_string()).collect();
    assert_eq!(references.len(), all.len(), "a reference was issued twice");
    let per_draft: HashMap<_, usize> = all.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(s.draft_id).or_default() += 1;
        m
    });
    assert!(
        per_draft.values().all(|n| *n == 1),
        "a draft was submitted twice"
    );
    assert_eq!(all.len(), 2 + ready.len(), "every application arrived once");

    // Every draft left half-way is resumable on the surviving node, by link and by code.
    for d in &halfway {
        let page = request(pb, "GET", d, None).unwrap();
        assert_eq!(page.status, 303, "{d}: {}", page.text());
        let step = page.location.unwrap();
        assert!(step.starts_with(&format!("{d}/schritt/")), "{step}");
        let page = request(pb, "GET", &step, None).unwrap();
        assert_eq!(page.status, 200, "{step}: {}", page.text());
    }
    // The resume code shown on the page finds the draft (the limiter counts per client address,
    // and this loopback client used up its attempts above, so the code is checked in the store).
    let step = request(pb, "GET", &halfway[0], None)
        .unwrap()
        .location
        .unwrap();
    let page = request(pb, "GET", &step, None).unwrap().text();
    let code: ResumeCode = page
        .split("<strong>")
        .skip(1)
        .find_map(|part| part.split("</strong>").next()?.parse().ok())
        .expect("the page shows the resume code");
    let by_code = store
        .draft_by_resume_code(&code)
        .unwrap()
        .expect("the code of a half-way draft finds it");
    assert_eq!(
        by_code.id.to_string(),
        halfway[0].rsplit('/').next().unwrap()
    );
    drop(b);
}

fn lotse(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lotse"));
    c.args(args)
        .current_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The documented migration path with the binary: `lotse export` from sled, `lotse import` into
/// PostgreSQL, and back into a new sled store; every record arrives (compared as JSON, since
/// PostgreSQL's JSONB keeps object keys in its own order).
#[test]
fn lotse_export_and_import_move_a_store_from_sled_to_postgres_and_back() {
    let url = match lotse_store::pg_testing::test_database() {
        Ok(Some(url)) => url,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let env = [("LOTSE_MIGRATION_TEST_DB", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = lotse(&["demo", "--data", data.to_str().unwrap()], &[]);
    assert!(demo.status.success());
    // An uploaded file travels with the records (export format 6).
    let lease: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    let lease_hash = lotse_store::AttachmentHash::of(&lease);
    {
        use lotse_store::AttachmentStore;
        let store = lotse_store::SledStore::open(data.join("store")).unwrap();
        store
            .put_attachment(&lease_hash, &mut lease.as_slice(), 1 << 20)
            .unwrap();
        store.close().unwrap();
    }
    let (first, second, third) = (
        dir.path().join("1.jsonl"),
        dir.path().join("2.jsonl"),
        dir.path().join("3.jsonl"),
    );
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr))
    };
    ok(lotse(
        &[
            "export",
            "--data",
            data.to_str().unwrap(),
            "-o",
            first.to_str().unwrap(),
        ],
        &[],
    ));
    let pg = ["--database-url-env", "LOTSE_MIGRATION_TEST_DB"];
    ok(lotse(
        &[&["import", first.to_str().unwrap()][..], &pg].concat(),
        &env,
    ));
    let twice = lotse(
        &[&["import", first.to_str().unwrap()][..], &pg].concat(),
        &env,
    );
    assert!(!twice.status.success(), "a second import is refused");
    assert!(String::from_utf8_lossy(&twice.stderr).contains("LOT-S010"));
    ok(lotse(
        &[&["export", "-o", second.to_str().unwrap()][..], &pg].concat(),
        &env,
    ));
    let back = dir.path().join("back");
    ok(lotse(
        &[
            "import",
            second.to_str().unwrap(),
            "--data",
            back.to_str().unwrap(),
        ],
        &[],
    ));
    ok(lotse(
        &[
            "export",
            "--data",
            back.to_str().unwrap(),
            "-o",
            third.to_str().unwrap(),
        ],
        &[],
    ));
    // `lotse migrate` on the imported (already migrated) database: nothing to do, no error.
    let migrate = lotse(
        &["migrate"],
        &[
            ("LOTSE_STORE_BACKEND", "postgres"),
            ("LOTSE_STORE_URL_ENV", "LOTSE_MIGRATION_TEST_DB"),
            ("LOTSE_MIGRATION_TEST_DB", url.as_str()),
        ],
    );
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let a = json_lines(&first);
    assert!(a.len() > 5, "the demo stored records");
    assert!(
        a.iter()
            .any(|l| l["attachment"] == lease_hash.to_string().as_str()),
        "the file is in the export"
    );
    {
        use lotse_store::AttachmentStore;
        let store = lotse_store::SledStore::open(back.join("store")).unwrap();
        let mut got = Vec::new();
        store.read_attachment(&lease_hash, &mut got).unwrap();
        assert!(got == lease, "the file came back byte for byte");
    }
    assert_eq!(a, json_lines(&second));
    assert_eq!(a, json_lines(&third));
}

/// GET with `Authorization: Bearer` (the Postkorb's JSON API).
fn get_with_token(port: u16, path: &str, token: &str) -> (u16, Vec<u8>) {
    with_token(port, "GET", path, token, None)
}

/// A request with `Authorization: Bearer` and, if given, a JSON body.
fn with_token(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    json: Option<&str>,
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = json.unwrap_or("");
    let typed = if json.is_some() {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    } else {
        String::new()
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n{typed}\r\n{body}"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

/// The tenant's first administrator `chefin` (made with `lotse admin` on the database at `url`)
/// and an API token of hers.
fn admin_token(url: &str) -> String {
    let env = [
        ("LOTSE_NODES_TEST_DB", url),
        ("LOTSE_ADMIN_PASSWORD", "ein sehr langes Passwort"),
    ];
    let pg = ["admin", "--database-url-env", "LOTSE_NODES_TEST_DB"];
    let run = |args: &[&str]| {
        let o = lotse(&[&pg[..], args].concat(), &env);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(&["create-admin", "--tenant", TENANT, "--login", "chefin"]);
    let token = run(&[
        "token-create",
        "--tenant",
        TENANT,
        "--login",
        "chefin",
        "--label",
        "Fachverfahren",
    ]);
    let token = token.trim().to_string();
    assert!(token.starts_with("lotse_"), "{token}");
    token
}

/// `lotse admin --database-url-env` manages staff on PostgreSQL while a node runs, and that
/// node's Postkorb API lists a submission made on another node and serves its receipt from the
/// database.
#[test]
fn lotse_admin_works_on_postgres_and_every_node_serves_the_postkorb() {
    let url = match lotse_store::pg_testing::test_database() {
        Ok(Some(url)) => url,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let (mut a, mut b) = (Node::start(&url), Node::start(&url));
    a.wait_ready();
    b.wait_ready();
    let draft = start(a.port);
    fill(a.port, a.port, &draft);
    let done = submit(a.port, a.port, &draft)
        .unwrap()
        .expect("submitted on A");
    let sid = done.rsplit('/').next().unwrap().to_string();

    let token = admin_token(&url);
    let token = token.as_str();
    let env = [
        ("LOTSE_NODES_TEST_DB", url.as_str()),
        ("LOTSE_ADMIN_PASSWORD", "ein sehr langes Passwort"),
    ];
    let pg = ["admin", "--database-url-env", "LOTSE_NODES_TEST_DB"];
    let again = lotse(
        &[
            &pg[..],
            &["create-admin", "--tenant", TENANT, "--login", "zweite"],
        ]
        .concat(),
        &env,
    );
    assert!(!again.status.success(), "one first administrator only");
    let listed = lotse(&[&pg[..], &["list", "--tenant", TENANT]].concat(), &env);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("chefin\ttenant_admin\taktiv"));

    // Node B lists what A received and serves A's receipt (from the database).
    let (status, body) = get_with_token(
        b.port,
        &format!("/api/v1/verwaltung/{TENANT}/antraege"),
        token,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains(&sid));
    let (status, pdf) = get_with_token(
        b.port,
        &format!("/api/v1/verwaltung/{TENANT}/antraege/{sid}/quittung.pdf"),
        token,
    );
    assert_eq!(status, 200);
    let v = lotse_receipt::verify_receipt(&pdf).unwrap();
    assert!(v.valid && v.covers_whole_file);
    // Another tenant's path with this token: refused.
    let (status, _) = get_with_token(b.port, "/api/v1/verwaltung/wegberg/antraege", token);
    assert!(status == 401 || status == 403 || status == 404, "{status}");

    // Sign-in attempts count across the nodes: five wrong ones spread over A and B, then even
    // the right password waits a moment (the slowdown's first two seconds), on either node.
    let signin = format!("/verwaltung/{TENANT}/anmelden");
    let page = request(a.port, "GET", &signin, None).unwrap();
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.text(), "_csrf");
    let attempt = |port: u16, password: &str| {
        request(
            port,
            "POST",
            &signin,
            Some(&form(&[
                ("_csrf", &csrf),
                ("benutzername", "chefin"),
                ("passwort", password),
            ])),
        )
        .unwrap()
        .status
    };
    for port in [a.port, b.port, a.port, b.port, a.port] {
        assert_eq!(attempt(port, "falsch-falsch-falsch"), 401);
    }
    assert_eq!(attempt(b.port, "ein sehr langes Passwort"), 429);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        attempt(a.port, "ein sehr langes Passwort"),
        303,
        "a slowdown, not a lock-out"
    );
    drop(a);
    drop(b);
}

#[test]
fn a_tenant_setting_stored_on_one_node_reaches_every_node_within_seconds() {
    let url = match lotse_store::pg_testing::test_database() {
        Ok(Some(url)) => url,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let (mut a, mut b) = (Node::start(&url), Node::start(&url));
    a.wait_ready();
    b.wait_ready();
    let offered = |port: u16| {
        request(port, "GET", "/gangelt", None)
            .unwrap()
            .text()
            .contains("Hund zur Hundesteuer anmelden")
    };
    assert!(offered(a.port) && offered(b.port));
    // What the Verwaltung stores when Gangelt's administrator switches every service off.
    let store: lotse_store::AnyStore = PgStore::connect(&PgOptions::new(url.clone()))
        .unwrap()
        .into();
    let off = lotse_server::settings::TenantSettings {
        services: Some(vec![]),
        ..Default::default()
    };
    lotse_server::settings::save(&store, "gangelt", 0, &off).unwrap();
    let stored = Instant::now();
    let deadline = stored + Duration::from_secs(10);
    let (mut gone_a, mut gone_b) = (None, None);
    while Instant::now() < deadline && (gone_a.is_none() || gone_b.is_none()) {
        if gone_a.is_none() && !offered(a.port) {
            gone_a = Some(stored.elapsed());
        }
        if gone_b.is_none() && !offered(b.port) {
            gone_b = Some(stored.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ta, tb) = (
        gone_a.expect("node A took the change"),
        gone_b.expect("node B took the change"),
    );
    eprintln!("the change reached node A after {ta:?} and node B after {tb:?}");
    assert!(ta < Duration::from_secs(5) && tb < Duration::from_secs(5));
    // The other municipalities are untouched.
    assert!(
        request(a.port, "GET", "/erkelenz", None)
            .unwrap()
            .text()
            .contains("Hund zur Hundesteuer anmelden")
    );
    store.close().unwrap();
}

/// Fail-closed, with a real fault: the audit table refuses every new entry (a trigger raises),
/// as a full disk or a lost permission would. Then no read of a submission answers with any of
/// its data, and no change (status, message) happens without its entry; once the log takes
/// entries again, everything works and the log holds exactly the reads that were answered.
#[test]
fn when_the_audit_log_refuses_entries_nothing_is_read_or_changed_unaccounted() {
    let url = match lotse_store::pg_testing::test_database() {
        Ok(Some(url)) => url,
        Ok(None) => return,
        Err(e) => panic!("{e}"),
    };
    let mut a = Node::start(&url);
    a.wait_ready();
    let draft = start(a.port);
    fill(a.port, a.port, &draft);
    let done = submit(a.port, a.port, &draft).unwrap().expect("submitted");
    let sid = done.rsplit('/').next().unwrap().to_string();
    let token = admin_token(&url);
    let api = format!("/api/v1/verwaltung/{TENANT}/antraege/{sid}");
    let personal = |body: &[u8]| {
        let text = String::from_utf8_lossy(body);
        text.contains("Schmitz") || text.contains("anna@example.org") || body.starts_with(b"%PDF")
    };

    lotse_store::pg_testing::execute(
        &url,
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the audit log refuses entries (test)'; END $$",
    )
    .unwrap();
    lotse_store::pg_testing::execute(
        &url,
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit \
         FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    )
    .unwrap();

    // Reads: the record, the receipt, both exports.
    for path in [
        api.clone(),
        format!("{api}/quittung.pdf"),
        format!("/api/v1/verwaltung/{TENANT}/export.jsonl"),
        format!("/api/v1/verwaltung/{TENANT}/export.csv"),
    ] {
        let (status, body) = get_with_token(a.port, &path, &token);
        assert!(status >= 500, "{path}: {status}");
        assert!(
            !personal(&body),
            "{path} answered with the submission's data: {}",
            String::from_utf8_lossy(&body)
        );
    }
    // The Postkorb's page of the submission, for a signed-in case worker (sign-in writes no
    // entry about a submission, so it works).
    let signin = format!("/verwaltung/{TENANT}/anmelden");
    let page = request(a.port, "GET", &signin, None).unwrap();
    let signed_in = request(
        a.port,
        "POST",
        &signin,
        Some(&form(&[
            ("_csrf", &hidden(&page.text(), "_csrf")),
            ("benutzername", "chefin"),
            ("passwort", "ein sehr langes Passwort"),
        ])),
    )
    .unwrap();
    assert_eq!(signed_in.status, 303, "{}", signed_in.text());
    let cookie = signed_in.cookies.join("; ");
    let detail = format!("/verwaltung/{TENANT}/antrag/{sid}");
    for path in [detail.clone(), format!("{detail}/quittung.pdf")] {
        let r = request_as(a.port, "GET", &path, None, &cookie).unwrap();
        assert!(r.status >= 500, "{path}: {}", r.status);
        assert!(!personal(&r.body), "{path}: {}", r.text());
        assert!(
            r.text().contains("Ein technischer Fehler ist aufgetreten"),
            "{}",
            r.text()
        );
    }
    // The operator sees each refused read in the metrics, by what was to be read.
    let metrics = request(a.port, "GET", "/metrics", None).unwrap().text();
    for (what, n) in [("page", 1), ("api", 1), ("receipt", 2), ("export", 2)] {
        let line = format!("lotse_audit_refused_total{{what=\"{what}\"}} {n}\n");
        assert!(metrics.contains(&line), "no {line} in {metrics}");
    }
    assert!(!metrics.contains(&sid), "no submission in the metrics");
    // And in the log, with the cause, without the submission's id (the citizen's key).
    let log = a.log();
    assert_eq!(
        log.matches(r#""event":"audit_refused""#).count(),
        6,
        "{log}"
    );
    assert!(
        log.contains("the audit log refuses entries (test)"),
        "{log}"
    );
    assert!(!log.contains(&sid) && !log.contains("Schmitz"), "{log}");
    // Changes: each in one transaction with its entry, so none happens.
    let (status, _) = with_token(
        a.port,
        "POST",
        &format!("{api}/status"),
        &token,
        Some(r#"{"status":"in_bearbeitung"}"#),
    );
    assert!(status >= 500, "status change: {status}");
    let (status, _) = with_token(
        a.port,
        "POST",
        &format!("{api}/nachrichten"),
        &token,
        Some(r#"{"text":"Eine Nachricht, die es nicht geben darf."}"#),
    );
    assert!(status >= 500, "message: {status}");
    // The citizen's page reads no personal data of the office and still works.
    let citizen = request(a.port, "GET", &done, None).unwrap();
    assert_eq!(citizen.status, 200);
    assert!(
        !citizen
            .text()
            .contains("Eine Nachricht, die es nicht geben darf.")
    );

    lotse_store::pg_testing::execute(&url, "DROP TRIGGER refuse_audit ON audit").unwrap();
    let (status, body) = get_with_token(a.port, &api, &token);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let record: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(record["status"], "eingegangen", "{record}");
    assert!(!String::from_utf8_lossy(&body).contains("Eine Nachricht, die es nicht geben darf."));

    // The log: the submission's receipt and the one read that was answered, nothing else.
    let o = lotse(
        &[
            "admin",
            "--database-url-env",
            "LOTSE_NODES_TEST_DB",
            "audit",
            "--tenant",
            TENANT,
            "--submission",
            &sid,
        ],
        &[("LOTSE_NODES_TEST_DB", url.as_str())],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let actions: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {}",
                v["action"].as_str().unwrap(),
                v["what"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        actions,
        ["submission_received ", "submission_read api"],
        "{actions:?}"
    );
    drop(a);
}
