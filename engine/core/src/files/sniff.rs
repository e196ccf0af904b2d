//! What an uploaded file is, from its bytes alone: never from its name or the type the browser
//! sent. A renamed program is not a PDF. Looks at the first bytes (the signature) and the last
//! ones (a PDF's `%%EOF` and trailer, a JPEG's end marker, a PNG's `IEND` chunk), so a file
//! cut short in transfer or a password-protected PDF gets its own clear message instead of
//! reaching the office unreadable. Pure: the caller reads head and tail from wherever the
//! upload was streamed to.

/// How many bytes of the start and of the end [`sniff`] looks at.
pub const HEAD: usize = 1024;
pub const TAIL: usize = 4096;

use crate::text::Lang;

/// The kinds of file a workflow may accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Pdf, Kind::Jpeg, Kind::Png];

    /// The name in a workflow file (`accept: [pdf, jpeg]`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpeg",
            Kind::Png => "png",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        match s {
            "jpg" => Some(Kind::Jpeg),
            _ => Kind::ALL.into_iter().find(|k| k.name() == s),
        }
    }

    /// The media type a download is sent with.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
        }
    }

    /// How a citizen calls it.
    pub fn label(self) -> &'static str {
        self.label_in(Lang::De)
    }

    /// How a citizen calls it, in `lang`.
    pub fn label_in(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Kind::Pdf, _) => "PDF",
            (Kind::Jpeg, Lang::De) => "JPEG-Bild",
            (Kind::Png, Lang::De) => "PNG-Bild",
            (Kind::Jpeg, Lang::En) => "JPEG image",
            (Kind::Png, Lang::En) => "PNG image",
        }
    }

    /// The file name endings a file picker offers.
    pub fn endings(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Jpeg => &["jpg", "jpeg"],
            Kind::Png => &["png"],
        }
    }
}

/// What the bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// A complete file of this kind.
    Ok(Kind),
    /// A PDF protected by a password: the office could not open it.
    Encrypted(Kind),
    /// Starts like this kind but is cut short or damaged.
    Broken(Kind),
    /// None of the kinds Lotse knows.
    Unknown,
}

const PDF: &[u8] = b"%PDF-";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const PNG_END: &[u8] = &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The end without the whitespace and NUL padding that writers append.
fn trimmed(tail: &[u8]) -> &[u8] {
    let end = tail
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\r' | b'\n' | b'\t' | 0))
        .map_or(0, |i| i + 1);
    &tail[..end]
}

/// Judges a file by its first bytes (`head`, up to [`HEAD`]) and its last (`tail`, up to
/// [`TAIL`]; for a small file the two overlap or are the same).
pub fn sniff(head: &[u8], tail: &[u8]) -> Sniffed {
    if head.starts_with(PDF) {
        let end = trimmed(tail);
        let last = &end[end.len().saturating_sub(1024)..];
        if !contains(last, b"%%EOF") {
            return Sniffed::Broken(Kind::Pdf);
        }
        // The trailer (or the cross-reference stream's dictionary) names the encryption.
        if contains(tail, b"/Encrypt") {
            return Sniffed::Encrypted(Kind::Pdf);
        }
        return Sniffed::Ok(Kind::Pdf);
    }
    if head.starts_with(PNG) {
        return if trimmed(tail).ends_with(PNG_END) || tail.ends_with(PNG_END) {
            Sniffed::Ok(Kind::Png)
        } else {
            Sniffed::Broken(Kind::Png)
        };
    }
    if head.starts_with(JPEG) {
        // The end-of-image marker, allowing a little padding some cameras append.
        let end = trimmed(tail);
        let last = &end[end.len().saturating_sub(64)..];
        return if contains(last, &[0xFF, 0xD9]) {
            Sniffed::Ok(Kind::Jpeg)
        } else {
            Sniffed::Broken(Kind::Jpeg)
        };
    }
    Sniffed::Unknown
}

/// What the citizen reads when a file is refused, naming what the step accepts.
pub fn refusal(s: Sniffed, accepted: &[Kind], lang: Lang) -> Option<String> {
    let list = accepted
        .iter()
        .map(|k| k.label_in(lang))
        .collect::<Vec<_>>()
        .join(", ");
    let de = lang == Lang::De;
    match s {
        Sniffed::Ok(k) if accepted.contains(&k) => None,
        Sniffed::Ok(k) if de => Some(format!(
            "Diese Datei ist ein {}. Hier können Sie nur diese Dateiarten hochladen: {list}.",
            k.label_in(lang)
        )),
        Sniffed::Ok(k) => Some(format!(
            "This file is a {}. Here you can only upload these kinds of file: {list}.",
            k.label_in(lang)
        )),
        Sniffed::Encrypted(_) if de => Some(
            "Dieses PDF ist mit einem Passwort geschützt, daher kann das Amt es nicht öffnen. Bitte laden Sie es ohne Passwortschutz hoch.".into(),
        ),
        Sniffed::Encrypted(_) => Some(
            "This PDF is protected by a password, so the office could not open it. Please upload it without the password protection.".into(),
        ),
        Sniffed::Broken(k) if de => Some(format!(
            "Diese Datei sieht aus wie ein {}, ist aber unvollständig oder beschädigt. Bitte speichern Sie sie noch einmal und laden Sie sie erneut hoch.",
            k.label_in(lang)
        )),
        Sniffed::Broken(k) => Some(format!(
            "This file looks like a {}, but it is incomplete or damaged. Please save it again and upload it once more.",
            k.label_in(lang)
        )),
        Sniffed::Unknown if de => Some(format!(
            "Diese Datei können wir nicht annehmen: Ihr Inhalt ist keine der erlaubten Dateiarten ({list}), gleich wie sie heißt."
        )),
        Sniffed::Unknown => Some(format!(
            "We cannot accept this file: its content is none of the allowed kinds ({list}), whatever its name."
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn pdf(body: &str) -> Vec<u8> {
        format!("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n{body}trailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n").into_bytes()
    }

    fn judge(bytes: &[u8]) -> Sniffed {
        let head = &bytes[..bytes.len().min(HEAD)];
        let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
        sniff(head, tail)
    }

    #[test]
    fn each_kind_is_known_by_its_bytes_and_a_renamed_program_is_not() {
        assert_eq!(judge(&pdf("")), Sniffed::Ok(Kind::Pdf));
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
        jpeg.extend(std::iter::repeat_n(7u8, 5000));
        jpeg.extend([0xFF, 0xD9, 0, 0]);
        assert_eq!(judge(&jpeg), Sniffed::Ok(Kind::Jpeg));
        let mut png = PNG.to_vec();
        png.extend(std::iter::repeat_n(1u8, 100));
        png.extend(PNG_END);
        assert_eq!(judge(&png), Sniffed::Ok(Kind::Png));
        // A Windows program named antrag.pdf, a text file, an empty file.
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
        exe.extend(b"This program cannot be run in DOS mode. %PDF-1.7 %%EOF");
        assert_eq!(judge(&exe), Sniffed::Unknown);
        assert_eq!(judge(b"Mietvertrag, Seite 1"), Sniffed::Unknown);
        assert_eq!(judge(b""), Sniffed::Unknown);
    }

    #[test]
    fn a_cut_file_and_a_protected_pdf_get_their_own_answer() {
        let whole = pdf(&"stream\n".repeat(2000));
        assert_eq!(judge(&whole[..whole.len() / 2]), Sniffed::Broken(Kind::Pdf));
        let locked = pdf("").into_iter().collect::<Vec<_>>();
        let locked = String::from_utf8(locked)
            .unwrap()
            .replace("<< /Root 1 0 R >>", "<< /Root 1 0 R /Encrypt 5 0 R >>");
        assert_eq!(judge(locked.as_bytes()), Sniffed::Encrypted(Kind::Pdf));
        let cut_jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
        assert_eq!(judge(&cut_jpeg), Sniffed::Broken(Kind::Jpeg));
        let mut cut_png = PNG.to_vec();
        cut_png.extend([0, 0, 0, 13]);
        assert_eq!(judge(&cut_png), Sniffed::Broken(Kind::Png));
    }

    #[test]
    fn the_refusal_names_what_the_step_accepts() {
        let pdf_only = [Kind::Pdf];
        assert_eq!(refusal(Sniffed::Ok(Kind::Pdf), &pdf_only, Lang::De), None);
        let png = refusal(Sniffed::Ok(Kind::Png), &pdf_only, Lang::De).unwrap();
        assert!(png.contains("PNG-Bild") && png.contains("nur diese Dateiarten hochladen: PDF."));
        let unknown = refusal(Sniffed::Unknown, &[Kind::Pdf, Kind::Jpeg], Lang::De).unwrap();
        assert!(unknown.contains("(PDF, JPEG-Bild)") && unknown.contains("gleich wie sie heißt"));
        assert!(
            refusal(Sniffed::Encrypted(Kind::Pdf), &pdf_only, Lang::De)
                .unwrap()
                .contains("Passwort")
        );
    }
}
