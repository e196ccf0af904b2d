//! A response body written by blocking code, a frame at a time: the store's reads (a file, the
//! audit log) go to the client as they come, never held whole. When the writer fails (the client
//! is gone) the reading ends; when the reading fails, the body ends with an error, so the client
//! sees a broken download rather than a short one.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use hyper::body::Frame;
use tokio::sync::mpsc;

/// Bytes per frame sent to the client.
const FRAME: usize = 64 * 1024;

/// A writer for blocking code and the body that sends what it writes.
pub(crate) fn channel() -> (ChannelWriter, Body) {
    let (tx, rx) = mpsc::channel(4);
    (
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(FRAME),
        },
        Body::new(ChannelBody(rx)),
    )
}

/// Hands what blocking code writes to the response body, a frame at a time; fails once the
/// client is gone, which ends the writing.
pub(crate) struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(FRAME)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }

    /// Sends what is left; the body ends when the writer is dropped.
    pub(crate) fn finish(&mut self) -> std::io::Result<()> {
        self.send()
    }

    /// Ends the body with an error (the reading failed mid-way).
    pub(crate) fn fail(self, why: &str) {
        let _ = self
            .tx
            .blocking_send(Err(std::io::Error::other(why.to_string())));
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(FRAME - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == FRAME {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The receiving end as a response body.
struct ChannelBody(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}
