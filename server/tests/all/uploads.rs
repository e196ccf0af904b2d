//! The parts of Nachweise (uploads) that judge a file: the virus scan through a real clamd
//! (Debian's clamav-daemon, started here on loopback with a signature database of its own that
//! knows the EICAR test file: no signature download is possible or needed), and what the bytes
//! say. docs/uploads.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lotse_server::uploads::scan::{Clamd, ClamdAddr, Verdict};
use lotse_server::uploads::sniff::{Kind, Sniffed, sniff};

use super::delivery::free_port;

/// The standard harmless test virus (68 bytes).
pub(crate) const EICAR: &[u8] =
    br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// clamd on a loopback port with a database of one signature (the EICAR file's MD5, size and
/// name, as a `.hdb` line); stopped on drop.
pub(crate) struct TestClamd {
    child: Child,
    pub(crate) client: Clamd,
}

impl TestClamd {
    pub(crate) fn start(dir: &Path, stream_max: &str) -> TestClamd {
        let db = dir.join("db");
        std::fs::create_dir_all(&db).unwrap();
        let md5 = Command::new("md5sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(EICAR)?;
                c.wait_with_output()
            })
            .unwrap();
        let md5 = String::from_utf8(md5.stdout).unwrap();
        let md5 = md5.split_whitespace().next().unwrap();
        std::fs::write(
            db.join("lotse-test.hdb"),
            format!("{md5}:{}:Lotse.Test.EICAR\n", EICAR.len()),
        )
        .unwrap();
        let port = free_port();
        let conf = dir.join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "DatabaseDirectory {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nForeground yes\n\
                 LogFile {}\nStreamMaxLength {stream_max}\n",
                db.display(),
                dir.join("clamd.log").display()
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/clamd")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd (Debian's clamav-daemon) must be installed: .ci/run installs it");
        let client = Clamd {
            addr: ClamdAddr::Tcp(format!("127.0.0.1:{port}").parse().unwrap()),
            timeout: Duration::from_secs(20),
        };
        let start = Instant::now();
        while !client.ping() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "clamd did not answer PING: {}",
                std::fs::read_to_string(dir.join("clamd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        TestClamd { child, client }
    }
}

impl Drop for TestClamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn clamd_finds_eicar_passes_clean_files_streamed_and_down_is_never_clean() {
    let dir = tempfile::tempdir().unwrap();
    let clamd = TestClamd::start(dir.path(), "30M");
    let c = clamd.client.clone();
    assert_eq!(
        c.scan(&mut &EICAR[..]),
        Verdict::Found("Lotse.Test.EICAR.UNOFFICIAL".into())
    );
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    assert_eq!(c.scan(&mut &pdf[..]), Verdict::Clean);
    // 20 MB from a reader that never holds them: streamed in chunks.
    let mut big = std::io::repeat(b'a').take(20 * 1024 * 1024);
    assert_eq!(c.scan(&mut big), Verdict::Clean);
    drop(clamd);
    // clamd gone: "could not ask", never clean.
    let down = c.scan(&mut &pdf[..]);
    assert!(matches!(down, Verdict::Unavailable(_)), "{down:?}");
    assert!(!c.ping());
}

#[test]
fn a_stream_over_clamds_limit_is_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let clamd = TestClamd::start(dir.path(), "1M");
    let mut big = std::io::repeat(b'a').take(3 * 1024 * 1024);
    let v = clamd.client.scan(&mut big);
    assert!(matches!(v, Verdict::Unavailable(_)), "{v:?}");
}

#[test]
fn the_bytes_decide_what_a_file_is() {
    let exe = b"MZ\x90\x00 This program cannot be run in DOS mode.";
    assert_eq!(sniff(exe, exe), Sniffed::Unknown);
    assert_eq!(sniff(EICAR, EICAR), Sniffed::Unknown);
    assert_eq!(Kind::from_name("jpg"), Some(Kind::Jpeg));
}
