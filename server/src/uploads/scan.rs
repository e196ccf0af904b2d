//! The virus scan of an upload through clamd (ClamAV's daemon) over its socket: the file is
//! streamed with `INSTREAM` in chunks, never read whole; the answer is clean, found (with the
//! signature's name), or that the scanner could not be asked. "Could not be asked" is never
//! taken for clean: the tenant's setting decides whether the upload is refused or accepted and
//! marked "nicht geprüft" for the office (docs/uploads.md). Blocking: call it on a blocking
//! thread.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// Where clamd listens: `127.0.0.1:3310` or `unix:/run/clamav/clamd.ctl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClamdAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::str::FromStr for ClamdAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("unix:") {
            Some(path) if !path.is_empty() => Ok(ClamdAddr::Unix(PathBuf::from(path))),
            Some(_) => Err("unix: needs the socket's path, e.g. unix:/run/clamav/clamd.ctl".into()),
            None => s.parse().map(ClamdAddr::Tcp).map_err(|_| {
                format!("\"{s}\" is neither host:port (127.0.0.1:3310) nor unix:/path")
            }),
        }
    }
}

/// What the scanner said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The name of the signature that matched (for the office and the log, not the citizen).
    Found(String),
    /// clamd could not be reached or gave no usable answer (why, for the log).
    Unavailable(String),
}

/// A clamd to ask.
#[derive(Clone, Debug)]
pub struct Clamd {
    pub addr: ClamdAddr,
    /// For connecting, each write and the answer (a large file takes clamd a moment).
    pub timeout: Duration,
}

/// The size of one `INSTREAM` chunk.
const CHUNK: usize = 64 * 1024;

trait Conn: Read + Write {}
impl<T: Read + Write> Conn for T {}

impl Clamd {
    fn connect(&self) -> std::io::Result<Box<dyn Conn>> {
        match &self.addr {
            ClamdAddr::Tcp(a) => {
                let s = TcpStream::connect_timeout(a, self.timeout)?;
                s.set_read_timeout(Some(self.timeout))?;
                s.set_write_timeout(Some(self.timeout))?;
                Ok(Box::new(s))
            }
            #[cfg(unix)]
            ClamdAddr::Unix(p) => {
                let s = std::os::unix::net::UnixStream::connect(p)?;
                s.set_read_timeout(Some(self.timeout))?;
                s.set_write_timeout(Some(self.timeout))?;
                Ok(Box::new(s))
            }
            #[cfg(not(unix))]
            ClamdAddr::Unix(_) => Err(std::io::Error::other("no Unix sockets here")),
        }
    }

    /// Whether clamd answers `PING` with `PONG`.
    pub fn ping(&self) -> bool {
        let Ok(mut c) = self.connect() else {
            return false;
        };
        if c.write_all(b"zPING\0").is_err() {
            return false;
        }
        let mut answer = Vec::new();
        let _ = c.take(64).read_to_end(&mut answer);
        answer.starts_with(b"PONG")
    }

    /// Streams `file` to clamd and returns its verdict.
    pub fn scan(&self, file: &mut dyn Read) -> Verdict {
        match self.instream(file) {
            Ok(answer) => verdict(&answer),
            Err(e) => Verdict::Unavailable(e.to_string()),
        }
    }

    fn instream(&self, file: &mut dyn Read) -> std::io::Result<String> {
        let mut c = self.connect()?;
        c.write_all(b"zINSTREAM\0")?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            let len = u32::try_from(n).map_err(std::io::Error::other)?;
            c.write_all(&len.to_be_bytes())?;
            // clamd closes the connection once the stream passes its StreamMaxLength; its
            // answer then says so.
            if let Err(e) = c.write_all(&buf[..n]) {
                let mut answer = Vec::new();
                let _ = c.take(1024).read_to_end(&mut answer);
                if answer.is_empty() {
                    return Err(e);
                }
                return Ok(String::from_utf8_lossy(&answer).into_owned());
            }
        }
        c.write_all(&0u32.to_be_bytes())?;
        c.flush()?;
        let mut answer = Vec::new();
        c.take(4096).read_to_end(&mut answer)?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }
}

/// Reads clamd's answer to `INSTREAM`: `stream: OK`, `stream: <name> FOUND`, or an error.
fn verdict(answer: &str) -> Verdict {
    let a = answer.trim_end_matches(['\0', '\n']).trim();
    let a = a.strip_prefix("stream:").map_or(a, str::trim);
    if a == "OK" {
        Verdict::Clean
    } else if let Some(name) = a.strip_suffix("FOUND") {
        Verdict::Found(name.trim().to_string())
    } else if a.is_empty() {
        Verdict::Unavailable("clamd gave no answer".into())
    } else {
        Verdict::Unavailable(format!("clamd: {a}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn clamd_answers_are_read_and_nothing_unclear_counts_as_clean() {
        assert_eq!(verdict("stream: OK\0"), Verdict::Clean);
        assert_eq!(
            verdict("stream: Lotse.Test.EICAR FOUND\0"),
            Verdict::Found("Lotse.Test.EICAR".into())
        );
        assert!(matches!(
            verdict("INSTREAM size limit exceeded. ERROR\0"),
            Verdict::Unavailable(_)
        ));
        assert!(matches!(verdict(""), Verdict::Unavailable(_)));
        assert_eq!(
            "unix:/run/clamav/clamd.ctl".parse::<ClamdAddr>().unwrap(),
            ClamdAddr::Unix("/run/clamav/clamd.ctl".into())
        );
        assert!("clamd".parse::<ClamdAddr>().is_err());
        assert!("unix:".parse::<ClamdAddr>().is_err());
    }
}
