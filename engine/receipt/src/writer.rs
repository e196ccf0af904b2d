//! Writes the finished receipt: every dictionary and array object in compressed object
//! streams, every stream and the signature dictionary as plain objects, and a compressed
//! cross-reference stream (ISO 32000-1 7.5.7–7.5.8). A two-page receipt's structure tree is
//! about a hundred small objects, a twenty-page one's about nine hundred: written one by one
//! with a classic cross-reference table they were most of the file.
//!
//! The signature dictionary stays outside the object streams, so that its `/ByteRange` and
//! `/Contents` placeholders can be filled in place after writing.

use std::io::Write;

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};

use super::error::ReceiptError;

/// Objects per object stream: readers parse a whole object stream to get one object.
const PER_OBJECT_STREAM: usize = 200;

/// Writes `object` in PDF syntax.
pub(crate) fn write_object(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(true) => out.extend_from_slice(b"true"),
        Object::Boolean(false) => out.extend_from_slice(b"false"),
        Object::Integer(i) => write_integer(out, *i),
        Object::Real(r) => write_real(out, *r),
        Object::Name(name) => write_name(out, name),
        Object::String(text, StringFormat::Literal) => write_literal(out, text),
        Object::String(text, StringFormat::Hexadecimal) => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.reserve(2 * text.len() + 2);
            out.push(b'<');
            for b in text {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0x0f)]);
            }
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 && needs_space(item) {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => write_dictionary(out, dict),
        Object::Stream(stream) => {
            // /Length is written from the content, whatever the dictionary says.
            out.extend_from_slice(b"<<");
            for (key, value) in stream
                .dict
                .iter()
                .filter(|(k, _)| k.as_slice() != b"Length")
            {
                write_entry(out, key, value);
            }
            out.extend_from_slice(b"/Length ");
            write_integer(out, stream.content.len() as i64);
            out.extend_from_slice(b">>stream\n");
            out.extend_from_slice(&stream.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((id, generation)) => {
            write_integer(out, i64::from(*id));
            out.push(b' ');
            write_integer(out, i64::from(*generation));
            out.extend_from_slice(b" R");
        }
    }
}

/// Whether `object` must be separated from a token before it (delimiters need no space).
fn needs_space(object: &Object) -> bool {
    !matches!(
        object,
        Object::Name(_)
            | Object::String(..)
            | Object::Array(_)
            | Object::Dictionary(_)
            | Object::Stream(_)
    )
}

fn write_dictionary(out: &mut Vec<u8>, dict: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        write_entry(out, key, value);
    }
    out.extend_from_slice(b">>");
}

fn write_entry(out: &mut Vec<u8>, key: &[u8], value: &Object) {
    write_name(out, key);
    if needs_space(value) {
        out.push(b' ');
    }
    write_object(out, value);
}

/// Decimal digits, without the formatting machinery: a long receipt's structure tree writes
/// thousands of object numbers.
pub(crate) fn write_integer(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    let mut rest = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A real without exponent (Rust's `Display` never writes one), and as an integer when it
/// is one.
fn write_real(out: &mut Vec<u8>, value: f32) {
    let value = if value.is_finite() { value } else { 0.0 };
    let _ = write!(out, "{value}");
}

fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        // Delimiters, white space, `#` and anything outside `!`..`~` as #hh.
        if b"()<>[]{}/%#".contains(&b) || !(33..=126).contains(&b) {
            let _ = write!(out, "#{b:02X}");
        } else {
            out.push(b);
        }
    }
}

/// A literal string with `\`, `(`, `)` and CR escaped (balanced or not, simply all).
fn write_literal(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'(');
    for &b in text {
        match b {
            b'\\' | b'(' | b')' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// Where an object ended up.
#[derive(Clone, Copy)]
enum Place {
    Free,
    /// Byte offset of a plain object.
    Plain(usize),
    /// Object stream number and index in it.
    Packed(u32, u16),
}

/// Writes `doc` and the already serialised `packed` objects (id, dictionary or array in
/// PDF syntax) as a PDF file. `plain` stays outside the object streams (as streams do), and
/// its byte offset is returned with the file.
pub(crate) fn write(
    doc: &Document,
    packed: &[(ObjectId, Vec<u8>)],
    plain: Option<ObjectId>,
) -> Result<(Vec<u8>, Option<usize>), ReceiptError> {
    let error = |what: &str| ReceiptError::Pdf(format!("writing the receipt: {what}"));
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"%PDF-");
    out.extend_from_slice(doc.version.as_bytes());
    // A comment with bytes above 127 tells transfer tools that the file is binary.
    out.extend_from_slice(b"\n%\xE2\xE3\xCF\xD3\n");

    let mut bodies: Vec<(ObjectId, std::borrow::Cow<'_, [u8]>)> = packed
        .iter()
        .map(|(id, b)| (*id, b.as_slice().into()))
        .collect();
    let mut max_id = doc.max_id;
    let mut plain_at = None;
    let mut places: Vec<Place> = Vec::new();
    let place = |places: &mut Vec<Place>, id: u32, p: Place| {
        let i = id as usize;
        if places.len() <= i {
            places.resize(i + 1, Place::Free);
        }
        places[i] = p;
    };
    for (&(id, generation), object) in &doc.objects {
        if generation != 0 {
            return Err(error("an object of a generation other than 0"));
        }
        max_id = max_id.max(id);
        if Some((id, generation)) == plain {
            plain_at = Some(out.len());
        }
        if matches!(object, Object::Stream(_)) || Some((id, generation)) == plain {
            place(&mut places, id, Place::Plain(out.len()));
            write_integer(&mut out, i64::from(id));
            out.extend_from_slice(b" 0 obj\n");
            write_object(&mut out, object);
            out.extend_from_slice(b"\nendobj\n");
        } else {
            let mut body = Vec::new();
            write_object(&mut body, object);
            bodies.push(((id, 0), body.into()));
        }
    }
    for ((id, _), _) in packed {
        max_id = max_id.max(*id);
    }

    for chunk in bodies.chunks(PER_OBJECT_STREAM) {
        max_id += 1;
        let stream_id = max_id;
        let mut header = Vec::new();
        let mut content = Vec::new();
        for (index, ((id, _), body)) in chunk.iter().enumerate() {
            place(&mut places, *id, Place::Packed(stream_id, index as u16));
            write_integer(&mut header, i64::from(*id));
            header.push(b' ');
            write_integer(&mut header, content.len() as i64);
            header.push(b' ');
            content.extend_from_slice(body);
            content.push(b'\n');
        }
        let first = header.len();
        header.extend_from_slice(&content);
        let deflated = crate::deflate::deflate_fast(&header).map_err(|e| error(&e.to_string()))?;
        place(&mut places, stream_id, Place::Plain(out.len()));
        let _ = write!(
            out,
            "{stream_id} 0 obj\n<</Type/ObjStm/N {}/First {first}/Filter/FlateDecode/Length {}>>stream\n",
            chunk.len(),
            deflated.len()
        );
        out.extend_from_slice(&deflated);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    // The cross-reference stream: type (1 byte), offset or object stream (4), generation or
    // index (2).
    max_id += 1;
    let xref_id = max_id;
    let xref_at = out.len();
    place(&mut places, xref_id, Place::Plain(xref_at));
    let size = xref_id as usize + 1;
    let mut table = Vec::with_capacity(7 * size);
    for i in 0..size {
        let (kind, field, index) = match places.get(i).copied().unwrap_or(Place::Free) {
            Place::Free => (0u8, 0u32, if i == 0 { 0xFFFF } else { 0 }),
            Place::Plain(at) => (
                1,
                u32::try_from(at).map_err(|_| error("the file is over 4 GB"))?,
                0,
            ),
            Place::Packed(stream, index) => (2, stream, index),
        };
        table.push(kind);
        table.extend_from_slice(&field.to_be_bytes());
        table.extend_from_slice(&index.to_be_bytes());
    }
    let deflated = crate::deflate::deflate(&table).map_err(|e| error(&e.to_string()))?;
    let mut trailer = Dictionary::new();
    trailer.set("Type", Object::Name(b"XRef".to_vec()));
    trailer.set("Size", Object::Integer(size as i64));
    trailer.set(
        "W",
        Object::Array(vec![
            Object::Integer(1),
            Object::Integer(4),
            Object::Integer(2),
        ]),
    );
    for key in [&b"Root"[..], b"Info", b"ID"] {
        if let Ok(value) = doc.trailer.get(key) {
            trailer.set(key.to_vec(), value.clone());
        }
    }
    trailer.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    let xref = Object::Stream(lopdf::Stream::new(trailer, deflated));
    write_integer(&mut out, i64::from(xref_id));
    out.extend_from_slice(b" 0 obj\n");
    write_object(&mut out, &xref);
    out.extend_from_slice(b"\nendobj\nstartxref\n");
    write_integer(&mut out, xref_at as i64);
    out.extend_from_slice(b"\n%%EOF\n");
    Ok((out, plain_at))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn written(object: &Object) -> String {
        let mut out = Vec::new();
        write_object(&mut out, object);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn objects_are_written_in_pdf_syntax() {
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"Page".to_vec()));
        dict.set("Odd Name#", Object::Name(b"a/b".to_vec()));
        dict.set(
            "K",
            Object::Array(vec![
                Object::Integer(1),
                Object::Real(0.5),
                Object::Reference((12, 0)),
                Object::Name(b"N".to_vec()),
                Object::Null,
            ]),
        );
        dict.set(
            "T",
            Object::String(b"a(b)\\c\r".to_vec(), StringFormat::Literal),
        );
        dict.set(
            "H",
            Object::String(vec![0xfe, 0xff, 0x00], StringFormat::Hexadecimal),
        );
        assert_eq!(
            written(&Object::Dictionary(dict)),
            "<</Type/Page/Odd#20Name#23/a#2Fb/K[1 0.5 12 0 R/N null]/T(a\\(b\\)\\\\c\\r)/H<FEFF00>>>"
        );
        assert_eq!(written(&Object::Real(3.0)), "3");
        assert_eq!(written(&Object::Integer(-1_234_567_890)), "-1234567890");
        assert_eq!(written(&Object::Integer(0)), "0");
        assert_eq!(written(&Object::Integer(i64::MIN)), i64::MIN.to_string());
        assert_eq!(written(&Object::Real(1.0e-7)), "0.0000001");
    }

    #[test]
    fn a_written_document_reads_back() {
        let mut doc = Document::with_version("1.7");
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Pages".to_vec()));
        page.set("Kids", Object::Array(vec![]));
        page.set("Count", Object::Integer(0));
        let pages = doc.add_object(Object::Dictionary(page));
        let mut catalog = Dictionary::new();
        catalog.set("Type", Object::Name(b"Catalog".to_vec()));
        catalog.set("Pages", Object::Reference(pages));
        let extra = doc.new_object_id();
        catalog.set("Extra", Object::Reference(extra));
        let stream = doc.add_object(Object::Stream(lopdf::Stream::new(
            Dictionary::new(),
            b"BT ET".to_vec(),
        )));
        catalog.set("Content", Object::Reference(stream));
        let root = doc.add_object(Object::Dictionary(catalog));
        doc.trailer.set("Root", Object::Reference(root));
        let (bytes, at) =
            write(&doc, &[(extra, b"<</Answer 42>>".to_vec())], Some(stream)).unwrap();
        assert!(bytes[at.unwrap()..].starts_with(format!("{} 0 obj", stream.0).as_bytes()));
        let back = Document::load_mem(&bytes).unwrap();
        let catalog = back.catalog().unwrap();
        let Ok(Object::Reference(extra)) = catalog.get(b"Extra") else {
            panic!("no /Extra")
        };
        let answer = back.get_dictionary(*extra).unwrap().get(b"Answer").unwrap();
        assert_eq!(answer.as_i64().unwrap(), 42);
        let Ok(Object::Reference(stream)) = catalog.get(b"Content") else {
            panic!("no /Content")
        };
        let content = back.get_object(*stream).unwrap().as_stream().unwrap();
        assert_eq!(content.content, b"BT ET");
    }
}
