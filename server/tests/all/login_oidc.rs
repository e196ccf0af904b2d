//! Sign-in against a real OpenID provider: npm's `oidc-provider` (tests/oidc/provider.mjs,
//! installed by `npm ci` in tests/oidc), started on loopback by the test with users of each
//! trust level. Lotse on a port of its own; the browser's part (redirects, the provider's
//! cookies and login form) is done over real HTTP. The refusals a provider cannot be asked to
//! commit (another audience, issuer or nonce, an expired token, another key) are tokens signed
//! here with the provider's own key and checked against the key set the provider publishes.
//!
//! Without node and tests/oidc/node_modules the test is skipped with a loud message; `.ci/run`
//! installs them and sets `LOTSE_REQUIRE_OIDC=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use lotse_server::Portal;
use lotse_server::login::LoginError;
use lotse_server::login::config::{LoginConfig, OidcConfig, eidas_acr, oidc_claims};
use lotse_server::payment::client::Answer;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce, StandardClaims,
    SubjectIdentifier,
};
use openssl::rsa::Rsa;

use crate::login_idp::{free_port, header, http, input};

const CLIENT: &str = "lotse-heinsberg";
const SECRET: &str = "test-geheimnis-4711";

/// The folder of the provider, or `None` (skip) unless it is required.
fn provider_dir() -> Option<PathBuf> {
    let dir = crate::portal::project_root().join("tests/oidc");
    let ok = dir.join("node_modules/oidc-provider").is_dir()
        && Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    let required = std::env::var("LOTSE_REQUIRE_OIDC").is_ok_and(|v| v == "1");
    match (ok, required) {
        (true, _) => Some(dir),
        (false, true) => panic!(
            "LOTSE_REQUIRE_OIDC=1 but node or tests/oidc/node_modules is missing (npm ci in tests/oidc)"
        ),
        (false, false) => {
            eprintln!(
                "\n*** SKIPPED: the OpenID provider test needs node and `npm ci` in tests/oidc; set LOTSE_REQUIRE_OIDC=1 to make this a failure ***\n"
            );
            None
        }
    }
}

/// The provider process; stopped when dropped.
struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_provider(dir: &Path, port: u16, lotse: &str, key: &Path) -> Provider {
    let mut child = Command::new("node")
        .arg(dir.join("provider.mjs"))
        .args(["--port", &port.to_string()])
        .args(["--client-id", CLIENT, "--client-secret", SECRET])
        .args(["--redirect-uri", &format!("{lotse}/konto/oidc/rueckkehr")])
        .args(["--post-logout-uri", &format!("{lotse}/konto")])
        .arg("--key")
        .arg(key)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut out = std::io::BufReader::new(out);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "READY", "the OpenID provider did not start");
    // Whatever it prints later is read (and dropped): a closed pipe would end it.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Provider(child)
}

/// The provider's signing key: as PEM for signing tokens here, as a private JWK for it.
struct SigningKey {
    pem: String,
    jwk: String,
}

fn signing_key() -> SigningKey {
    let rsa = Rsa::generate(2048).unwrap();
    let b = |n: &openssl::bn::BigNumRef| B64URL.encode(n.to_vec());
    let jwk = serde_json::json!({
        "kty": "RSA", "kid": "lotse-test-1", "use": "sig", "alg": "RS256",
        "n": b(rsa.n()), "e": b(rsa.e()), "d": b(rsa.d()),
        "p": b(rsa.p().unwrap()), "q": b(rsa.q().unwrap()),
        "dp": b(rsa.dmp1().unwrap()), "dq": b(rsa.dmq1().unwrap()), "qi": b(rsa.iqmp().unwrap()),
    });
    SigningKey {
        pem: String::from_utf8(rsa.private_key_to_pem().unwrap()).unwrap(),
        jwk: jwk.to_string(),
    }
}

/// A cookie jar of one browser (all cookies to every path of both hosts: enough here).
#[derive(Default, Clone)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, a: &Answer) {
        for (n, v) in &a.headers {
            if !n.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = v.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            self.0.retain(|(n, _)| n != name);
            let cleared = value.is_empty() || v.to_ascii_lowercase().contains("max-age=0");
            if !cleared {
                self.0.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

async fn get(url: &str, jar: &mut Jar) -> Answer {
    let a = http("GET", url, &jar.header(), None, "none").await;
    jar.take(&a);
    a
}

async fn post(url: &str, jar: &mut Jar, form: &[(&str, &str)]) -> Answer {
    let a = http("POST", url, &jar.header(), Some(form), "same-origin").await;
    jar.take(&a);
    a
}

fn location(a: &Answer, base: &str) -> String {
    let l = header(a, "location").unwrap_or_else(|| panic!("no Location ({})", a.status));
    if l.starts_with('/') {
        format!("{base}{l}")
    } else {
        l.to_string()
    }
}

fn body(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

/// Starts a sign-in at Lotse and signs in at the provider as `user` (when the provider shows
/// its form): the provider's redirect back to Lotse, not yet followed.
async fn to_provider_and_back(
    lotse: &str,
    op: &str,
    jar: &mut Jar,
    user: &str,
    level: &str,
) -> String {
    let start = get(
        &format!("{lotse}/konto/anmelden?ebene={level}&zurueck=/konto"),
        jar,
    )
    .await;
    assert_eq!(start.status, 303, "{}", body(&start));
    let mut at = location(&start, lotse);
    assert!(at.starts_with(&format!("{op}/auth?")), "{at}");
    assert!(at.contains("code_challenge_method=S256") && at.contains("nonce="));
    for _ in 0..8 {
        if at.starts_with(lotse) {
            return at;
        }
        let a = get(&at, jar).await;
        if a.status == 200 && body(&a).contains("name=\"password\"") {
            let page = body(&a);
            let action = {
                let m = "action=\"";
                let i = page.find(m).unwrap() + m.len();
                page[i..i + page[i..].find('"').unwrap()].to_string()
            };
            let answered = post(
                &format!("{op}{action}"),
                jar,
                &[("user", user), ("password", &format!("passwort-{user}"))],
            )
            .await;
            assert_eq!(answered.status, 303, "{}", body(&answered));
            at = location(&answered, op);
            continue;
        }
        assert!(matches!(a.status, 302 | 303), "{}: {}", a.status, body(&a));
        at = location(&a, op);
    }
    panic!("the provider never sent the browser back");
}

fn query(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn with_query(url: &str, name: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

struct World {
    lotse: String,
    op: String,
    provider: Option<Provider>,
    server: tokio::task::JoinHandle<()>,
    key: SigningKey,
    _dir: tempfile::TempDir,
}

async fn world(dir_op: &Path) -> World {
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key();
    let key_file = dir.path().join("op-key.json");
    std::fs::write(&key_file, &key.jwk).unwrap();
    let secret_file = dir.path().join("oidc-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let op_port = free_port();
    let op = format!("http://127.0.0.1:{op_port}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lotse = format!("http://{addr}");
    let provider = start_provider(dir_op, op_port, &lotse, &key_file);
    let config = lotse_server::config::Config {
        listen: addr,
        project_dir: crate::portal::project_root().to_path_buf(),
        data_dir: dir.path().join("data"),
        login: Some(LoginConfig {
            public_url: lotse.clone(),
            cookie_secure: false,
            session_minutes: 60,
            saml: None,
            oidc: Some(OidcConfig {
                label: "Servicekonto".into(),
                issuer: op.clone(),
                client_id: CLIENT.into(),
                client_secret_file: secret_file,
                scopes: vec!["profile".into(), "email".into(), "address".into()],
                subject_claim: "sub".into(),
                claims: oidc_claims(),
                acr: eidas_acr(),
            }),
        }),
        ..Default::default()
    };
    let portal = tokio::task::spawn_blocking(move || Portal::build_with(&config))
        .await
        .unwrap()
        .unwrap();
    let app =
        lotse_server::router(Arc::new(portal)).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    World {
        lotse,
        op,
        provider: Some(provider),
        server,
        key,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizens_sign_in_at_a_real_openid_provider_and_out_of_both() {
    let Some(dir) = provider_dir() else { return };
    let mut w = world(&dir).await;
    let (lotse, op) = (w.lotse.clone(), w.op.clone());
    let (lotse, op) = (lotse.as_str(), op.as_str());

    // Erika (substantial) asked for substantial: signed in, Mein Konto says so.
    let mut erika = Jar::default();
    let back = to_provider_and_back(lotse, op, &mut erika, "erika", "substanziell").await;
    let done = get(&back, &mut erika).await;
    assert_eq!(done.status, 303, "{}", body(&done));
    assert_eq!(header(&done, "location"), Some("/konto"));
    assert!(erika.has("lotse_konto") && !erika.has("lotse_anmeldung"));
    let konto = get(&format!("{lotse}/konto"), &mut erika).await;
    let page = body(&konto);
    assert!(
        page.contains("Sie sind über Servicekonto angemeldet, Vertrauensniveau substanziell"),
        "{page}"
    );
    // The same prefill as after SAML: the owner's name locked, the address filled in.
    let service = format!("{lotse}/heinsberg/leistung/hundesteuer-anmeldung");
    let page = get(&service, &mut erika).await;
    let csrf = input(&body(&page), "_csrf").to_string();
    let started = post(&service, &mut erika, &[("_csrf", &csrf)]).await;
    assert_eq!(started.status, 303, "{}", body(&started));
    let draft = location(&started, lotse);
    let step = get(&format!("{draft}/schritt/halter"), &mut erika).await;
    let page = body(&step);
    assert!(
        page.contains("name=\"halter.nachname\" value=\"Mustermann\" readonly"),
        "{page}"
    );
    assert!(page.contains("name=\"anschrift.ort\" value=\"Heinsberg\""));
    let konto = get(&format!("{lotse}/konto"), &mut erika).await;
    assert!(body(&konto).contains("In Bearbeitung"), "{}", body(&konto));

    // The same answer again (the browser's back button): the sign-in was answered already.
    let again = get(&back, &mut erika).await;
    assert_eq!(again.status, 400);
    assert!(body(&again).contains("LOT-L005"));

    // Its code with a new sign-in of the same browser: the provider refuses a used code (and
    // the PKCE verifier is another one).
    let start = get(
        &format!("{lotse}/konto/anmelden?ebene=basis&zurueck=/konto"),
        &mut erika,
    )
    .await;
    let state = query(&location(&start, lotse), "state");
    let replayed = get(&with_query(&back, "state", &state), &mut erika).await;
    assert_eq!(replayed.status, 400, "{}", body(&replayed));
    assert!(body(&replayed).contains("LOT-L016"), "{}", body(&replayed));

    // A state that is not this browser's: refused before the code is used.
    let mut eve = Jar::default();
    let back = to_provider_and_back(lotse, op, &mut eve, "erika", "basis").await;
    let forged = get(&with_query(&back, "state", "_0000"), &mut eve).await;
    assert_eq!(forged.status, 400);
    assert!(body(&forged).contains("LOT-L005") && !eve.has("lotse_konto"));
    // Another browser with the right state but without the pending cookie: refused too.
    let mut other = Jar::default();
    let stolen = get(&back, &mut other).await;
    assert!(body(&stolen).contains("LOT-L005") && !other.has("lotse_konto"));

    // Bruno (basic) asked for substantial: refused, with the way to a stronger sign-in.
    let mut bruno = Jar::default();
    let back = to_provider_and_back(lotse, op, &mut bruno, "bruno", "substanziell").await;
    let low = get(&back, &mut bruno).await;
    let page = body(&low);
    assert_eq!(low.status, 403, "{page}");
    assert!(page.contains("LOT-L008") && page.contains("Höheres Vertrauensniveau nötig"));
    assert!(!bruno.has("lotse_konto"));

    // Hanna (high) satisfies every level.
    let mut hanna = Jar::default();
    let back = to_provider_and_back(lotse, op, &mut hanna, "hanna", "hoch").await;
    assert_eq!(get(&back, &mut hanna).await.status, 303);

    // Erika signs out: the local session ends, then the provider's (RP-initiated logout with
    // the ID token as hint), and the provider sends her back to Mein Konto.
    let konto = get(&format!("{lotse}/konto"), &mut erika).await;
    let csrf = input(&body(&konto), "_csrf").to_string();
    let out = post(
        &format!("{lotse}/konto/abmelden"),
        &mut erika,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(out.status, 303);
    let to = location(&out, lotse);
    assert!(to.starts_with(&format!("{op}/session/end?")), "{to}");
    assert!(!query(&to, "id_token_hint").is_empty());
    assert_eq!(
        query(&to, "post_logout_redirect_uri"),
        format!("{lotse}/konto")
    );
    assert!(!erika.has("lotse_konto"));
    let confirm = get(&to, &mut erika).await;
    let page = body(&confirm);
    assert_eq!(confirm.status, 200, "{page}");
    let xsrf = input(&page, "xsrf").to_string();
    let ended = post(
        &format!("{op}/session/end/confirm"),
        &mut erika,
        &[("xsrf", &xsrf), ("logout", "yes")],
    )
    .await;
    assert_eq!(ended.status, 303, "{}", body(&ended));
    assert_eq!(location(&ended, op), format!("{lotse}/konto"));
    // The provider's session is gone: a new sign-in asks for the password again.
    let start = get(
        &format!("{lotse}/konto/anmelden?ebene=basis&zurueck=/konto"),
        &mut erika,
    )
    .await;
    let mut at = location(&start, lotse);
    let mut asked = false;
    for _ in 0..4 {
        let a = get(&at, &mut erika).await;
        if a.status == 200 {
            asked = body(&a).contains("name=\"password\"");
            break;
        }
        at = location(&a, op);
    }
    assert!(asked, "the provider still knew Erika after the logout");

    // With the provider gone, signing out still ends the local session.
    let back = to_provider_and_back(lotse, op, &mut hanna, "hanna", "basis").await;
    let _ = get(&back, &mut hanna).await;
    assert!(hanna.has("lotse_konto"));
    drop(w.provider.take());
    let konto = get(&format!("{lotse}/konto"), &mut hanna).await;
    let csrf = input(&body(&konto), "_csrf").to_string();
    let out = post(
        &format!("{lotse}/konto/abmelden"),
        &mut hanna,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(!hanna.has("lotse_konto"));
    let konto = get(&format!("{lotse}/konto"), &mut hanna).await;
    assert!(body(&konto).contains("Melden Sie sich mit Servicekonto an"));
    w.server.abort();
}

/// An ID token signed here with the provider's own key.
fn token(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    nonce: &str,
    issued: chrono::DateTime<chrono::Utc>,
) -> String {
    let signer = CoreRsaPrivateSigningKey::from_pem(
        &key.pem,
        Some(JsonWebKeyId::new("lotse-test-1".into())),
    )
    .unwrap();
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer.into()).unwrap(),
        vec![Audience::new(audience.into())],
        issued + chrono::Duration::minutes(5),
        issued,
        StandardClaims::new(SubjectIdentifier::new("erika".into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce.into())));
    CoreIdToken::new(
        claims,
        &signer,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_for_another_client_issuer_or_sign_in_are_refused() {
    let Some(dir) = provider_dir() else { return };
    let w = world(&dir).await;
    let op = w.op.as_str();
    let jwks = body(&get(&format!("{op}/jwks"), &mut Jar::default()).await);
    let now = chrono::Utc::now();
    let check = |raw: &str, nonce: &str, at| {
        lotse_server::login::oidc::check_id_token(raw, op, CLIENT, &jwks, nonce, at)
            .err()
            .map(|e: LoginError| e.code())
    };
    let good = token(&w.key, op, CLIENT, "n-1", now);
    assert_eq!(
        check(&good, "n-1", now),
        None,
        "the well-formed token must pass"
    );
    let other_client = token(&w.key, op, "another-portal", "n-1", now);
    assert_eq!(check(&other_client, "n-1", now), Some("LOT-L003"));
    let other_issuer = token(&w.key, "http://127.0.0.1:9/", CLIENT, "n-1", now);
    assert_eq!(check(&other_issuer, "n-1", now), Some("LOT-L017"));
    assert_eq!(check(&good, "n-2", now), Some("LOT-L018"));
    let later = now + chrono::Duration::minutes(10);
    assert_eq!(check(&good, "n-1", later), Some("LOT-L006"));
    // Signed by another key under the provider's key id.
    let forged = token(&signing_key(), op, CLIENT, "n-1", now);
    assert_eq!(check(&forged, "n-1", now), Some("LOT-L017"));
    // A changed payload under the provider's signature.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&B64URL.decode(&parts[1]).unwrap()).unwrap();
    payload["sub"] = "mallory".into();
    parts[1] = B64URL.encode(payload.to_string());
    assert_eq!(check(&parts.join("."), "n-1", now), Some("LOT-L017"));
    // Unsigned (alg none).
    let none = format!(
        "{}.{}.",
        B64URL.encode(r#"{"alg":"none"}"#),
        good.split('.').nth(1).unwrap()
    );
    assert_eq!(check(&none, "n-1", now), Some("LOT-L017"));
    w.server.abort();
}

fn oidc_config(issuer: &str, secret_file: PathBuf) -> OidcConfig {
    OidcConfig {
        label: "Servicekonto".into(),
        issuer: issuer.into(),
        client_id: CLIENT.into(),
        client_secret_file: secret_file,
        scopes: vec!["profile".into()],
        subject_claim: "sub".into(),
        claims: oidc_claims(),
        acr: eidas_acr(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_gets_a_calm_page_and_the_portal_still_starts() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("oidc-secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    // Nothing listens there: the portal starts anyway (the provider is asked at sign-in).
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lotse = format!("http://{addr}");
    let config = lotse_server::config::Config {
        listen: addr,
        project_dir: crate::portal::project_root().to_path_buf(),
        data_dir: dir.path().join("data"),
        login: Some(LoginConfig {
            public_url: lotse.clone(),
            cookie_secure: false,
            session_minutes: 60,
            saml: None,
            oidc: Some(oidc_config(&nowhere, secret_file)),
        }),
        ..Default::default()
    };
    let portal = tokio::task::spawn_blocking(move || Portal::build_with(&config))
        .await
        .unwrap()
        .unwrap();
    let app =
        lotse_server::router(Arc::new(portal)).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let start = get(
        &format!("{lotse}/konto/anmelden?ebene=basis&zurueck=/konto"),
        &mut Jar::default(),
    )
    .await;
    let page = body(&start);
    assert_eq!(start.status, 503, "{page}");
    assert!(page.contains("Anmeldedienst nicht erreichbar") && page.contains("LOT-L015"));
    server.abort();
}

#[test]
fn the_oidc_configuration_is_checked_at_start() {
    let secret = PathBuf::from("/nonexistent");
    let login = |saml: bool, oidc: Option<OidcConfig>, public_url: &str| LoginConfig {
        public_url: public_url.into(),
        cookie_secure: true,
        session_minutes: 60,
        saml: saml.then(|| lotse_server::login::config::SamlConfig {
            label: "BundID".into(),
            idp_metadata: secret.clone(),
            idp_certificate: secret.clone(),
            entity_id: None,
            sp_key: secret.clone(),
            sp_certificate: secret.clone(),
            sp_next_key: None,
            sp_next_certificate: None,
            attributes: lotse_server::login::config::bundid_attributes(),
            subject_attribute: Some("pseudonym".into()),
        }),
        oidc,
    };
    let ok = oidc_config("https://id.land.example", secret.clone());
    assert!(
        login(false, Some(ok.clone()), "https://portal.example")
            .validate(false)
            .is_ok()
    );
    let err = |c: LoginConfig| c.validate(false).unwrap_err().to_string();
    assert!(err(login(true, Some(ok.clone()), "https://portal.example")).contains("not both"));
    assert!(err(login(false, None, "https://portal.example")).contains("is missing"));
    let plain = oidc_config("http://id.land.example", secret.clone());
    assert!(err(login(false, Some(plain), "https://portal.example")).contains("http://"));
    let mut bad_level = ok.clone();
    bad_level.acr.insert("urn:x".into(), "mittel".into());
    assert!(
        err(login(false, Some(bad_level), "https://portal.example")).contains("no trust level")
    );
    let mut no_levels = ok;
    no_levels.acr.clear();
    assert!(err(login(false, Some(no_levels), "https://portal.example")).contains("acr is empty"));
}
