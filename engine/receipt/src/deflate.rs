//! Deflate (zlib) for the PDF's streams and the pre-cut font programs: one level for both.

use std::io::Write;

const COMPRESSION_LEVEL: u32 = 3;

pub(crate) fn deflate(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::new(COMPRESSION_LEVEL),
    );
    encoder.write_all(data)?;
    encoder.finish()
}
