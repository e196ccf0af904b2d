//! The probes of issue 15, items 6 and 7, kept as tests: limits on guessing hold for parallel
//! attempts, a correct resume code forgives no wrong one, a third party cannot lock a staff
//! member out for long, the client address comes from a trusted proxy only, and a second factor
//! (TOTP, set up with `lotse admin totp-enable`) is checked at sign-in, each code once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotse_core::ManualClock;
use lotse_server::admin::accounts::{self, NewAccount};
use lotse_server::config::Config;
use lotse_server::{Portal, router};
use lotse_store::{Role, SledStore, TenantId};
use serde_json::{Value, json};
use time::macros::datetime;
use tower::ServiceExt;

const PASSWORD: &str = "richtig-langes-passwort";
const SIGNIN: &str = "/verwaltung/heinsberg/anmelden";

fn project() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

/// A portal on a fresh data folder with the case worker `sb` of Heinsberg, on a clock the
/// test moves.
struct Desk {
    app: axum::Router,
    clock: Arc<ManualClock>,
    csrf: String,
    _dir: tempfile::TempDir,
}

/// A data folder whose store holds the case worker `sb` of Heinsberg.
fn data_with_case_worker() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = SledStore::open(data.join("store")).unwrap();
    accounts::create_account(
        &store,
        &TenantId::new("heinsberg", "HEI").unwrap(),
        NewAccount {
            login: "sb",
            display_name: "Sabine Beispiel",
            role: Role::CaseWorker,
            password: PASSWORD,
        },
        argon2::Params::new(8, 1, 1, None).unwrap(),
        datetime!(2026-11-20 09:00 UTC),
    )
    .unwrap();
    store.close().unwrap();
    dir
}

impl Desk {
    async fn new(edit: impl FnOnce(&mut Config)) -> Desk {
        Desk::on(data_with_case_worker(), edit).await
    }

    async fn on(dir: tempfile::TempDir, edit: impl FnOnce(&mut Config)) -> Desk {
        let mut config = Config {
            project_dir: project(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        edit(&mut config);
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-20 10:00 UTC)));
        let portal = Portal::build_with_clock(&config, false, clock.clone()).unwrap();
        let app = router(Arc::new(portal));
        let form = app
            .clone()
            .oneshot(Request::get(SIGNIN).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let page = String::from_utf8(
            axum::body::to_bytes(form.into_body(), 1_000_000)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        let marker = "name=\"_csrf\" value=\"";
        let start = page.find(marker).unwrap() + marker.len();
        let csrf = page[start..start + page[start..].find('"').unwrap()].to_string();
        Desk {
            app,
            clock,
            csrf,
            _dir: dir,
        }
    }

    /// One sign-in from `peer` (and, if given, an `X-Forwarded-For` header): the status and
    /// the seconds of `Retry-After`, if any.
    fn attempt(
        &self,
        peer: &str,
        forwarded: Option<&str>,
        login: &str,
        password: &str,
        code: &str,
    ) -> impl Future<Output = (StatusCode, Option<i64>)> + Send + use<> {
        let body = serde_urlencoded::to_string([
            ("_csrf", self.csrf.as_str()),
            ("benutzername", login),
            ("passwort", password),
            ("code", code),
        ])
        .unwrap();
        let mut req = Request::post(SIGNIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let app = self.app.clone();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let retry = res
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
            (res.status(), retry)
        }
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
    }
}

/// Statuses of attempts sent all at once.
async fn at_once(
    attempts: Vec<impl Future<Output = (StatusCode, Option<i64>)> + Send + 'static>,
) -> Vec<StatusCode> {
    let tasks: Vec<_> = attempts.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap().0);
    }
    out
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_wrong_passwords_for_one_account_check_at_most_five() {
    let d = Desk::new(|_| {}).await;
    // From 40 addresses, so that only the account's limit applies.
    let attempts = (0..40)
        .map(|i| {
            d.attempt(
                &format!("198.51.100.{}:4000", i + 1),
                None,
                "sb",
                "falsch-falsch-falsch",
                "",
            )
        })
        .collect();
    let statuses = at_once(attempts).await;
    let checked = count(&statuses, StatusCode::UNAUTHORIZED);
    assert!(
        (1..=5).contains(&checked),
        "{checked} of 40 parallel wrong passwords were checked (limit 5): {statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        40 - checked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_parallel_attempts_from_one_address_check_at_most_twenty() {
    let d = Desk::new(|_| {}).await;
    // Sixty different logins, so that only the address's limit applies.
    let attempts = (0..60)
        .map(|i| {
            d.attempt(
                "203.0.113.7:5000",
                None,
                &format!("niemand{i}"),
                "falsch-falsch-falsch",
                "",
            )
        })
        .collect();
    let statuses = at_once(attempts).await;
    let checked = count(&statuses, StatusCode::UNAUTHORIZED);
    assert!(
        (1..=20).contains(&checked),
        "{checked} of 60 parallel attempts from one address were checked (limit 20)"
    );
    // Another address is not affected.
    let (status, _) = d
        .attempt("203.0.113.8:5000", None, "sb", PASSWORD, "")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// Item 7: wrong passwords slow an account down but never lock it for long. Someone sends wrong
/// passwords for half an hour, from ever new addresses, each time as soon as allowed: no wait
/// is longer than a minute, guessing stays at about one password a minute, and the staff
/// member's right password gets through after the wait.
#[tokio::test]
async fn a_third_party_slows_an_account_down_but_cannot_lock_it_out() {
    let d = Desk::new(|_| {}).await;
    let mut checked = 0;
    let mut longest = 0;
    let mut elapsed = 0;
    let mut i = 0;
    while elapsed < 30 * 60 {
        i += 1;
        let peer = format!("10.{}.{}.1:4000", i / 200, i % 200);
        match d
            .attempt(&peer, None, "sb", "falsch-falsch-falsch", "")
            .await
        {
            (StatusCode::UNAUTHORIZED, _) => checked += 1,
            (StatusCode::TOO_MANY_REQUESTS, Some(wait)) => {
                assert!(wait <= 60, "a wait of {wait} s");
                longest = longest.max(wait);
                d.advance(wait);
                elapsed += wait;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(longest, 60);
    assert!(checked <= 45, "{checked} guesses in 30 minutes");
    // The staff member: at most a minute's wait, then in (never 15 minutes locked).
    let (status, wait) = d.attempt("192.0.2.10:4000", None, "sb", PASSWORD, "").await;
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = wait.unwrap();
        assert!(wait <= 60);
        d.advance(wait);
        let (status, _) = d.attempt("192.0.2.10:4000", None, "sb", PASSWORD, "").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    } else {
        assert_eq!(status, StatusCode::SEE_OTHER);
    }

    // Five wrong passwords in a row: the sixth waits two seconds, not a quarter of an hour.
    let d = Desk::new(|_| {}).await;
    for _ in 0..5 {
        let (status, _) = d
            .attempt("192.0.2.11:4000", None, "sb", "falsch-falsch-falsch", "")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, wait) = d.attempt("192.0.2.11:4000", None, "sb", PASSWORD, "").await;
    assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(2)));
    d.advance(2);
    let (status, _) = d.attempt("192.0.2.11:4000", None, "sb", PASSWORD, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// Item 7: behind a reverse proxy every client has the proxy's address; with the proxy
/// configured as trusted, each is counted under the address the proxy names. From anyone else
/// the header is ignored, so nobody escapes the limit by naming another address.
#[tokio::test]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    let d = Desk::new(|c| {
        c.proxy.trusted = vec!["10.0.0.5".into()];
    })
    .await;
    let wrong = |peer: &'static str, forwarded: &'static str, i: usize| {
        d.attempt(
            peer,
            Some(forwarded),
            &format!("niemand{i}"),
            "falsch-falsch-falsch",
            "",
        )
    };
    for i in 0..20 {
        assert_eq!(
            wrong("10.0.0.5:4000", "198.51.100.1", i).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        wrong("10.0.0.5:4000", "198.51.100.1", 20).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the client behind the proxy has used up its attempts"
    );
    // Another client behind the same proxy: its own count. A staff member behind it signs in.
    assert_eq!(
        wrong("10.0.0.5:4000", "198.51.100.2", 21).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = d
        .attempt("10.0.0.5:4000", Some("198.51.100.3"), "sb", PASSWORD, "")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A peer that is no trusted proxy: the header changes nothing.
    for i in 0..20 {
        let forwarded = if i % 2 == 0 { "192.0.2.1" } else { "192.0.2.2" };
        assert_eq!(
            wrong("203.0.113.9:4000", forwarded, 100 + i).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        wrong("203.0.113.9:4000", "192.0.2.99", 200).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Item 7: a second factor, set up with `lotse admin totp-enable`, is needed at sign-in; each
/// code signs in once.
#[tokio::test]
async fn a_second_factor_set_up_on_the_command_line_is_checked_at_sign_in() {
    let dir = data_with_case_worker();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_lotse"))
            .arg("admin")
            .arg("--data")
            .arg(&data)
            .args(args)
            .env_remove("LOTSE_DATA_DIR")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let out = run(&["totp-enable", "--tenant", "heinsberg", "--login", "sb"]);
    let mut lines = out.lines();
    let secret = lines.next().unwrap().trim().to_string();
    let uri = lines.next().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    assert!(run(&["list", "--tenant", "heinsberg"]).contains("\ttotp"));

    let d = Desk::on(dir, |_| {}).await;
    let now = datetime!(2026-11-20 10:00 UTC);
    let code = accounts::totp_code(&secret, now).unwrap();
    let peer = "192.0.2.20:4000";
    // The password alone, or with a wrong code, is not enough (and the answer does not say
    // which of the two was wrong).
    assert_eq!(
        d.attempt(peer, None, "sb", PASSWORD, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    let wrong = if code == "123456" { "654321" } else { "123456" };
    assert_eq!(
        d.attempt(peer, None, "sb", PASSWORD, wrong).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.attempt(peer, None, "sb", "falsch-falsch-falsch", &code)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.attempt(peer, None, "sb", PASSWORD, &code).await.0,
        StatusCode::SEE_OTHER
    );
    // The same code again (seen over a shoulder): refused.
    assert_eq!(
        d.attempt("192.0.2.21:4000", None, "sb", PASSWORD, &code)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Half a minute later, the app's next code.
    d.advance(30);
    let next = accounts::totp_code(&secret, now + time::Duration::seconds(30)).unwrap();
    let (status, _) = d.attempt(peer, None, "sb", PASSWORD, &next).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    drop(d);
}

/// The JSON API's resume endpoint, called with the same client address each time.
async fn resume(app: &axum::Router, code: &str) -> StatusCode {
    let req = Request::post("/api/v1/tenants/heinsberg/resume")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "code": code }).to_string()))
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status()
}

async fn resume_code(app: &axum::Router) -> String {
    let req =
        Request::post("/api/v1/tenants/heinsberg/services/hundesteuer-anmeldung/applications")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = serde_json::from_slice(
        &axum::body::to_bytes(res.into_body(), 1_000_000)
            .await
            .unwrap(),
    )
    .unwrap();
    body["resume_code"].as_str().unwrap().to_string()
}

/// Item 6: one's own valid code between wrong ones forgives none of them.
#[tokio::test]
async fn a_valid_resume_code_between_wrong_ones_forgives_none() {
    let d = Desk::new(|_| {}).await;
    let own = resume_code(&d.app).await;
    let mut wrong_checked = 0;
    for round in 0..20 {
        match resume(&d.app, "AAAA-BBBB-CCCC-DDDD").await {
            StatusCode::NOT_FOUND => wrong_checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("round {round}: {other}"),
        }
        let mine = resume(&d.app, &own).await;
        assert!(
            mine == StatusCode::OK || mine == StatusCode::TOO_MANY_REQUESTS,
            "{mine}"
        );
    }
    assert_eq!(
        wrong_checked, 5,
        "the limit is five wrong codes per 15 minutes"
    );
    assert_eq!(resume(&d.app, &own).await, StatusCode::TOO_MANY_REQUESTS);
    d.advance(15 * 60);
    assert_eq!(resume(&d.app, &own).await, StatusCode::OK);
}

/// Item 6: forty wrong resume codes at once check at most five.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_wrong_resume_codes_check_at_most_five() {
    let d = Desk::new(|_| {}).await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let app = d.app.clone();
            tokio::spawn(async move { resume(&app, "AAAA-BBBB-CCCC-DDDD").await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let checked = count(&statuses, StatusCode::NOT_FOUND);
    assert!((1..=5).contains(&checked), "{checked}: {statuses:?}");
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        40 - checked
    );
}
