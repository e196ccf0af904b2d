//! Throwaway PostgreSQL databases for tests and benchmarks (feature `postgres`): not used by the
//! product itself.
//!
//! [`test_database`] hands out a fresh, empty database per call. With `LOTSE_TEST_PG` set to a
//! URL (`postgres://user@host:port/db`, a role that may `CREATE DATABASE`) it uses that server;
//! otherwise it starts one private cluster per process (`initdb` and `pg_ctl` from Debian's
//! `/usr/lib/postgresql/<v>/bin`, `pg_config --bindir` or `PATH`) on a free loopback port in a
//! temporary directory, and a watchdog stops it and removes the directory when the process
//! ends. As root the cluster runs as the `postgres` user (`initdb` refuses root).
//!
//! Without PostgreSQL, [`test_database`] returns `Ok(None)` after a loud message, so tests skip;
//! with `LOTSE_REQUIRE_POSTGRES=1` (CI) it returns an error and the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The base URL of the server tests use (the `postgres` maintenance database), or why not.
fn server() -> &'static Result<Option<String>, String> {
    static SERVER: OnceLock<Result<Option<String>, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("LOTSE_TEST_PG")
            && !url.is_empty()
        {
            return Ok(Some(url));
        }
        let required = std::env::var("LOTSE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        match find_bin_dir() {
            Some(bin) => start_cluster(&bin).map(Some),
            None => without_postgres(required),
        }
    })
}

/// No PostgreSQL here: an error when it is required (CI), else skip with a loud message.
fn without_postgres(required: bool) -> Result<Option<String>, String> {
    if required {
        return Err(
            "LOTSE_REQUIRE_POSTGRES=1 but no PostgreSQL binaries (initdb, pg_ctl) were found; \
             install the postgresql package or set LOTSE_TEST_PG"
                .into(),
        );
    }
    eprintln!(
        "\n*** SKIPPED: PostgreSQL tests need initdb/pg_ctl (Debian: apt-get install postgresql) \
         or LOTSE_TEST_PG=postgres://...; set LOTSE_REQUIRE_POSTGRES=1 to make this a failure ***\n"
    );
    Ok(None)
}

/// A fresh empty database: its URL, `Ok(None)` if PostgreSQL is not available (skip), or an
/// error (fail).
pub fn test_database() -> Result<Option<String>, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = match server() {
        Ok(Some(url)) => url.clone(),
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.clone()),
    };
    let name = format!(
        "lotse_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin(&base, &format!("CREATE DATABASE {name}"))?;
    Ok(Some(with_database(&base, &name)))
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs one SQL statement on the database at `url` (for tests that reach behind the store).
pub fn execute(url: &str, sql: &str) -> Result<(), String> {
    admin(url, sql)
}

fn admin(url: &str, sql: &str) -> Result<(), String> {
    use sqlx::{Connection, Executor};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let sql = sql.to_owned();
    rt.block_on(async move {
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| format!("connecting to the test server: {e}"))?;
        c.execute(sqlx::AssertSqlSafe(sql))
            .await
            .map_err(|e| format!("test server: {e}"))?;
        c.close().await.map_err(|e| e.to_string())
    })
}

fn find_bin_dir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((v, e.path().join("bin")))
            })
            .filter(|(_, d)| has(d))
            .collect();
        versions.sort();
        if let Some((_, d)) = versions.pop() {
            return Some(d);
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&d) {
            return Some(d);
        }
    }
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).find(|d| has(d)))
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command, run as the `postgres` user when we are root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A new cluster in a temporary directory: the directory and the port it will listen on.
fn init_cluster(bin: &Path) -> Result<(PathBuf, u16), String> {
    let dir =
        std::env::temp_dir().join(format!("lotse-pg-{}-{}", std::process::id(), free_port()?));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(
                "running as root, but cannot hand the test cluster to the postgres user".into(),
            );
        }
    }
    let data = dir.join("data");
    let init = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "lotse",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        ));
    }
    Ok((dir, free_port()?))
}

/// Starts (or, after a crash, recovers) the cluster in `dir` and waits until it accepts
/// connections.
fn pg_ctl_start(bin: &Path, dir: &Path, port: u16) -> Result<(), String> {
    let start = as_owner(&bin.join("pg_ctl"))
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-o")
        .arg(format!(
            "-k {} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=200",
            dir.display()
        ))
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "start"])
        .output()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !start.status.success() {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {}{log}",
            String::from_utf8_lossy(&start.stderr)
        ));
    }
    Ok(())
}

fn start_cluster(bin: &Path) -> Result<String, String> {
    let (dir, port) = init_cluster(bin)?;
    let data = dir.join("data");
    pg_ctl_start(bin, &dir, port)?;
    // The watchdog: once this process is gone, stop the cluster and remove its directory.
    let pg_ctl = bin.join("pg_ctl");
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- {} -D {} -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "{} -D {} -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the cluster watchdog: {e}"))?;
    Ok(format!("postgres://lotse@127.0.0.1:{port}/postgres"))
}

/// A cluster of its own that a test may crash (feature `postgres`): started like the shared
/// one, but killed with SIGKILL and restarted at will, and stopped and removed on drop. Only
/// with local binaries: an external `LOTSE_TEST_PG` server is never killed, so with one set,
/// [`PrivateCluster::start`] skips (`Ok(None)`).
pub struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// Starts a fresh cluster; `Ok(None)` to skip (no PostgreSQL, or only `LOTSE_TEST_PG`).
    pub fn start() -> Result<Option<Self>, String> {
        if std::env::var("LOTSE_TEST_PG").is_ok_and(|u| !u.is_empty()) {
            eprintln!(
                "\n*** SKIPPED: a test that kills the database needs a cluster of its own, not LOTSE_TEST_PG ***\n"
            );
            return Ok(None);
        }
        let required = std::env::var("LOTSE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let Some(bin) = find_bin_dir() else {
            return without_postgres(required).map(|_| None);
        };
        let (dir, port) = init_cluster(&bin)?;
        let cluster = Self { bin, dir, port };
        cluster.pg_ctl_start()?;
        Ok(Some(cluster))
    }

    /// A fresh database `name` in this cluster: its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let base = format!("postgres://lotse@127.0.0.1:{}/postgres", self.port);
        admin(&base, &format!("CREATE DATABASE {name}"))?;
        Ok(with_database(&base, name))
    }

    /// Kills the postmaster and every process it started (backends, WAL writer, checkpointer)
    /// with SIGKILL, as a power cut would stop them: nothing gets to write what is still in
    /// shared memory. Returns once they are gone.
    pub fn kill_9(&self) -> Result<(), String> {
        let pid_file = self.dir.join("data").join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file)
            .map_err(|e| format!("{}: {e}", pid_file.display()))?;
        let postmaster = text.lines().next().unwrap_or("").trim().to_owned();
        let mut pids = vec![postmaster.clone()];
        pids.extend(children_of(&postmaster));
        let killed = Command::new("kill")
            .arg("-9")
            .args(&pids)
            .status()
            .map_err(|e| format!("kill: {e}"))?;
        if !killed.success() {
            return Err(format!("kill -9 {pids:?} failed"));
        }
        for _ in 0..200 {
            if pids.iter().all(|p| !alive(p)) {
                // A postmaster nobody reaped yet still "exists" for the next one's lock checks.
                if std::path::Path::new(&format!("/proc/{postmaster}")).exists() {
                    let _ = std::fs::remove_file(&pid_file);
                    let socket_lock = self.dir.join(format!(".s.PGSQL.{}.lock", self.port));
                    let _ = std::fs::remove_file(socket_lock);
                }
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Err(format!("the cluster's processes {pids:?} did not die"))
    }

    /// Starts the cluster again (after [`PrivateCluster::kill_9`]: crash recovery).
    pub fn restart(&self) -> Result<(), String> {
        self.pg_ctl_start()
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        pg_ctl_start(&self.bin, &self.dir, self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The processes whose parent is `pid` (from /proc).
fn children_of(pid: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // pid (comm) state ppid ...: the command may contain spaces, so split after ')'.
            let rest = stat.rsplit_once(')')?.1;
            let ppid = rest.split_whitespace().nth(1)?;
            (ppid == pid).then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect()
}

/// Whether a process exists and is not a zombie.
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

#[cfg(test)]
mod tests {
    use super::{with_database, without_postgres};

    #[test]
    fn without_postgres_tests_skip_unless_it_is_required() {
        assert_eq!(without_postgres(false), Ok(None));
        let err = without_postgres(true).unwrap_err();
        assert!(err.contains("LOTSE_REQUIRE_POSTGRES=1"), "{err}");
    }

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres", "t1"),
            "postgres://u:p@h:5/t1"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "t2"),
            "postgres://h/t2?sslmode=disable"
        );
    }
}
