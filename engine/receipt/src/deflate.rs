//! Deflate (zlib) for the PDF's streams, at one fast level, with one compressor per thread.
//!
//! A new compressor allocates and clears a few hundred kilobytes of tables; for the small
//! streams of a receipt (page content, font cuts, character maps, the attachment) that cost
//! more than the compression itself: measured on the demo receipt's streams, a reused
//! compressor took 25–80 µs a stream where a new one took 100–175 µs. So each thread keeps
//! one and resets it.

use std::cell::RefCell;

use flate2::{Compress, Compression, FlushCompress, Status};

const COMPRESSION_LEVEL: u32 = 3;

thread_local! {
    static COMPRESSOR: RefCell<Compress> =
        RefCell::new(Compress::new(Compression::new(COMPRESSION_LEVEL), true));
    static FAST: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), true));
}

pub(crate) fn deflate(data: &[u8]) -> std::io::Result<Vec<u8>> {
    with(&COMPRESSOR, data)
}

/// At the fastest level: for the object streams, repetitive text where it saves time.
pub(crate) fn deflate_fast(data: &[u8]) -> std::io::Result<Vec<u8>> {
    with(&FAST, data)
}

fn with(
    key: &'static std::thread::LocalKey<RefCell<Compress>>,
    data: &[u8],
) -> std::io::Result<Vec<u8>> {
    key.with(|cell| {
        let mut compressor = cell.borrow_mut();
        compressor.reset();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let read = usize::try_from(compressor.total_in()).map_err(std::io::Error::other)?;
            let status = compressor
                .compress_vec(&data[read..], &mut out, FlushCompress::Finish)
                .map_err(std::io::Error::other)?;
            if status == Status::StreamEnd {
                return Ok(out);
            }
            out.reserve(out.capacity().max(1024));
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Read;

    #[test]
    fn streams_inflate_to_what_went_in_also_when_the_compressor_is_reused() {
        // Incompressible data makes the output outgrow its first buffer.
        let mut state = 0x2545_f491u32;
        let noise: Vec<u8> = (0..50_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        let text = "Eingangsbestätigung ".repeat(500).into_bytes();
        for data in [&noise[..], &text[..], b"", &noise[..100]] {
            let packed = super::deflate(data).unwrap();
            let mut unpacked = Vec::new();
            flate2::read::ZlibDecoder::new(&packed[..])
                .read_to_end(&mut unpacked)
                .unwrap();
            assert_eq!(unpacked, data);
        }
    }
}
