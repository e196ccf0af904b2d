//! Sign-in against a real identity provider: pysaml2's IdP (tests/idp/saml_idp.py, PyPI
//! `pysaml2` and Debian's `xmlsec1`), started on loopback by the test, with users of each
//! trust level. Lotse on a port of its own; the browser's part (redirects, cookies, the
//! provider's login form and its auto-posted answer) is done over real HTTP. The IdP signs the
//! assertion and encrypts it for Lotse, as BundID does, and checks the AuthnRequest's
//! signature against Lotse's metadata.
//!
//! Without Python and pysaml2 the test is skipped with a loud message; `.ci/run` installs them
//! in a venv, names it in `LOTSE_IDP_PYTHON` and sets `LOTSE_REQUIRE_IDP=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use lotse_server::Portal;
use lotse_server::login::config::{LoginConfig, SamlConfig, bundid_attributes};
use lotse_server::payment::client::{Answer, request};

use crate::login::{Keys, idp_metadata};

/// The Python that has pysaml2, or `None` (skip) unless it is required.
pub(crate) fn idp_python() -> Option<String> {
    let python = std::env::var("LOTSE_IDP_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import saml2"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let required = std::env::var("LOTSE_REQUIRE_IDP").is_ok_and(|v| v == "1");
    match (ok, required) {
        (true, _) => Some(python),
        (false, true) => {
            panic!("LOTSE_REQUIRE_IDP=1 but {python} cannot import saml2 (pip install pysaml2)")
        }
        (false, false) => {
            eprintln!(
                "\n*** SKIPPED: the real-IdP test needs pysaml2 (LOTSE_IDP_PYTHON=<venv>/bin/python); set LOTSE_REQUIRE_IDP=1 to make this a failure ***\n"
            );
            None
        }
    }
}

/// A free loopback port (bound, then let go).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The IdP process; stopped when dropped.
pub(crate) struct Idp(Child);

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_idp(
    python: &str,
    port: u16,
    key: &std::path::Path,
    cert: &std::path::Path,
    sp: &std::path::Path,
) -> Idp {
    let script = crate::portal::project_root().join("tests/idp/saml_idp.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(["--port", &port.to_string()])
        .arg("--key")
        .arg(key)
        .arg("--cert")
        .arg(cert)
        .arg("--sp-metadata")
        .arg(sp)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(out).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "READY", "the IdP did not start");
    Idp(child)
}

pub(crate) fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub(crate) fn cookies(a: &Answer) -> Vec<String> {
    a.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next().map(str::to_string))
        .filter(|c| !c.ends_with('='))
        .collect()
}

pub(crate) async fn http(
    method: &str,
    url: &str,
    cookie: &str,
    form: Option<&[(&str, &str)]>,
    site: &str,
) -> Answer {
    let mut headers = vec![("Sec-Fetch-Site", site.to_string())];
    if !cookie.is_empty() {
        headers.push(("Cookie", cookie.to_string()));
    }
    let body = match form {
        Some(f) => {
            headers.push((
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ));
            serde_urlencoded::to_string(f).unwrap().into_bytes()
        }
        None => Vec::new(),
    };
    let (method, url) = (method.to_string(), url.to_string());
    tokio::task::spawn_blocking(move || {
        let h: Vec<(&str, String)> = headers.iter().map(|(k, v)| (*k, v.clone())).collect();
        request(&method, &url, &h, &body, Duration::from_secs(20))
    })
    .await
    .unwrap()
    .unwrap()
}

pub(crate) fn input<'a>(page: &'a str, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    &page[at..at + page[at..].find('"').unwrap()]
}

/// A citizen signs in at the IdP as `user` asking `level`: Lotse's last answer (from the ACS).
async fn sign_in(lotse: &str, user: &str, password: &str, level: &str) -> (Answer, String) {
    let start = http(
        "GET",
        &format!("{lotse}/konto/anmelden?ebene={level}&zurueck=/konto"),
        "",
        None,
        "none",
    )
    .await;
    assert_eq!(start.status, 303);
    let pending = cookies(&start).join("; ");
    let to_idp = header(&start, "location").unwrap().to_string();
    let login = http("GET", &to_idp, "", None, "cross-site").await;
    let page = String::from_utf8_lossy(&login.body).into_owned();
    assert_eq!(login.status, 200, "{page}");
    let key = input(&page, "key").to_string();
    let idp = to_idp.split("/sso").next().unwrap().to_string();
    let answered = http(
        "POST",
        &format!("{idp}/login"),
        "",
        Some(&[("key", &key), ("user", user), ("password", password)]),
        "same-origin",
    )
    .await;
    let page = String::from_utf8_lossy(&answered.body).into_owned();
    assert_eq!(answered.status, 200, "{page}");
    let saml = html_unescape(input(&page, "SAMLResponse"));
    let acs = http(
        "POST",
        &format!("{lotse}/konto/saml/acs"),
        &pending,
        Some(&[("SAMLResponse", &saml)]),
        "cross-site",
    )
    .await;
    let session = cookies(&acs)
        .into_iter()
        .find(|c| c.starts_with("lotse_konto="))
        .unwrap_or_default();
    (acs, session)
}

fn sp_xml_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2B;", "+")
        .replace("&#43;", "+")
        .replace("&#x3D;", "=")
        .replace("&#61;", "=")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizens_sign_in_at_a_real_identity_provider_at_their_trust_level() {
    let Some(python) = idp_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let idp_keys = Keys::new("pysaml2 test IdP");
    let sp_keys = Keys::new("Lotse SP");
    let (idp_key, idp_cert) = idp_keys.write(dir.path(), "idp");
    let (sp_key, sp_cert) = sp_keys.write(dir.path(), "sp");
    let idp_port = free_port();
    let idp_base = format!("http://127.0.0.1:{idp_port}");
    let meta = dir.path().join("idp.xml");
    // The IdP offers single logout (HTTP-Redirect), as BundID's metadata does.
    let slo = format!(
        r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{idp_base}/slo"/>
    <md:SingleSignOnService "#
    );
    std::fs::write(
        &meta,
        idp_metadata(
            &format!("{idp_base}/idp"),
            &format!("{idp_base}/sso"),
            &idp_keys,
        )
        .replacen("<md:SingleSignOnService ", &slo, 1),
    )
    .unwrap();

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
            saml: Some(SamlConfig {
                label: "BundID".into(),
                idp_metadata: meta,
                idp_certificate: idp_cert.clone(),
                entity_id: None,
                sp_key,
                sp_certificate: sp_cert,
                sp_next_key: None,
                sp_next_certificate: None,
                attributes: bundid_attributes(),
                subject_attribute: Some("pseudonym".into()),
            }),
            oidc: None,
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

    let sp_meta = http(
        "GET",
        &format!("{lotse}/konto/saml/metadata"),
        "",
        None,
        "none",
    )
    .await;
    let sp_xml = dir.path().join("sp.xml");
    std::fs::write(&sp_xml, &sp_meta.body).unwrap();
    let _idp = start_idp(&python, idp_port, &idp_key, &idp_cert, &sp_xml);

    // Substantial (ELSTER): signed in; Mein Konto says so.
    let (acs, session) = sign_in(&lotse, "erika", "passwort-erika", "substanziell").await;
    assert_eq!(acs.status, 303, "{}", String::from_utf8_lossy(&acs.body));
    assert!(session.starts_with("lotse_konto="));
    let konto = http("GET", &format!("{lotse}/konto"), &session, None, "none").await;
    let body = String::from_utf8_lossy(&konto.body);
    assert!(body.contains("Vertrauensniveau substanziell"), "{body}");
    assert!(sp_xml_text(&sp_xml).contains(&format!(
        r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{lotse}/konto/saml/slo"/>"#
    )));

    // Single logout: the session ends here, then at the IdP (a LogoutRequest signed by Lotse,
    // checked by pysaml2), whose signed LogoutResponse brings the citizen back to Mein Konto.
    let csrf = input(&body, "_csrf").to_string();
    let out = http(
        "POST",
        &format!("{lotse}/konto/abmelden"),
        &session,
        Some(&[("_csrf", &csrf)]),
        "same-origin",
    )
    .await;
    assert_eq!(out.status, 303);
    let to_idp = header(&out, "location").unwrap().to_string();
    assert!(
        to_idp.starts_with(&format!("{idp_base}/slo?SAMLRequest=")),
        "{to_idp}"
    );
    assert!(to_idp.contains("&Signature="));
    let konto = http("GET", &format!("{lotse}/konto"), &session, None, "none").await;
    assert!(String::from_utf8_lossy(&konto.body).contains("Melden Sie sich mit BundID an"));
    let at_idp = http("GET", &to_idp, "", None, "cross-site").await;
    assert_eq!(
        at_idp.status,
        303,
        "{}",
        String::from_utf8_lossy(&at_idp.body)
    );
    let back = header(&at_idp, "location").unwrap().to_string();
    assert!(
        back.starts_with(&format!("{lotse}/konto/saml/slo?SAMLResponse=")),
        "{back}"
    );
    let log = http("GET", &format!("{idp_base}/slo-log"), "", None, "none").await;
    assert_eq!(String::from_utf8_lossy(&log.body), "bPK2-erika-0001");
    let done = http("GET", &back, "", None, "cross-site").await;
    assert_eq!(done.status, 303, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(header(&done, "location"), Some("/konto"));
    // The same answer with a changed status is not signed any more: a calm page, still out.
    let forged = back.replacen("SAMLResponse=", "SAMLResponse=A", 1);
    let refused = http("GET", &forged, "", None, "cross-site").await;
    let page = String::from_utf8_lossy(&refused.body);
    assert_eq!(refused.status, 400);
    assert!(
        page.contains("Sie sind abgemeldet") && page.contains("LOT-L002"),
        "{page}"
    );

    // Basic asking substantial: refused with the way to a stronger sign-in.
    let (acs, session) = sign_in(&lotse, "bruno", "passwort-bruno", "substanziell").await;
    let body = String::from_utf8_lossy(&acs.body);
    assert_eq!(acs.status, 403, "{body}");
    assert!(body.contains("LOT-L008") && body.contains("Höheres Vertrauensniveau nötig"));
    assert!(session.is_empty());

    // High (online ID card) satisfies every level.
    let (acs, hanna) = sign_in(&lotse, "hanna", "passwort-hanna", "hoch").await;
    assert_eq!(acs.status, 303, "{}", String::from_utf8_lossy(&acs.body));

    // Single logout started by the IdP: its signed LogoutRequest (pysaml2) ends Hanna's session
    // on Lotse, whose signed LogoutResponse the IdP reads as success. A changed request first:
    // refused, and the session stays.
    let signed_in = |a: &Answer| String::from_utf8_lossy(&a.body).contains("Vertrauensniveau hoch");
    let start = http(
        "GET",
        &format!(
            "{idp_base}/initiate-logout?name_id=bPK2-hanna-0003&sp={lotse}/konto/saml/metadata"
        ),
        "",
        None,
        "none",
    )
    .await;
    assert_eq!(
        start.status,
        303,
        "{}",
        String::from_utf8_lossy(&start.body)
    );
    let to_lotse = header(&start, "location").unwrap().to_string();
    assert!(
        to_lotse.starts_with(&format!("{lotse}/konto/saml/slo?SAMLRequest=")),
        "{to_lotse}"
    );
    let forged = to_lotse.replacen("SAMLRequest=", "SAMLRequest=A", 1);
    let refused = http("GET", &forged, "", None, "cross-site").await;
    assert_eq!(refused.status, 400);
    assert!(String::from_utf8_lossy(&refused.body).contains("LOT-L002"));
    assert!(signed_in(
        &http("GET", &format!("{lotse}/konto"), &hanna, None, "none").await
    ));
    let answered = http("GET", &to_lotse, "", None, "cross-site").await;
    assert_eq!(
        answered.status,
        303,
        "{}",
        String::from_utf8_lossy(&answered.body)
    );
    let to_idp = header(&answered, "location").unwrap().to_string();
    assert!(
        to_idp.starts_with(&format!("{idp_base}/slo?SAMLResponse=")),
        "{to_idp}"
    );
    assert!(!signed_in(
        &http("GET", &format!("{lotse}/konto"), &hanna, None, "none").await
    ));
    assert_eq!(
        http("GET", &to_idp, "", None, "cross-site").await.status,
        200
    );
    let answers = http("GET", &format!("{idp_base}/slo-answers"), "", None, "none").await;
    assert_eq!(
        String::from_utf8_lossy(&answers.body),
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    server.abort();
}
