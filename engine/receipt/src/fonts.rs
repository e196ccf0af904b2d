//! The shipped DejaVu Sans faces: glyph advances for wrapping and fitting text, the Latin
//! repertoire the receipts use, the Latin cut of the faces (without hinting) prepared once,
//! and the font programs a receipt embeds: the Latin cut down to the glyphs it prints.

use std::sync::OnceLock;

use lopdf::{Document, Object, ObjectId};
use printpdf::ParsedFont;

use super::error::ReceiptError;
use crate::sfnt::{Cuttable, Prepared};

pub(crate) const REGULAR_TTF: &[u8] = include_bytes!("../../../pdf-templates/fonts/DejaVuSans.ttf");
pub(crate) const BOLD_TTF: &[u8] =
    include_bytes!("../../../pdf-templates/fonts/DejaVuSans-Bold.ttf");

/// A parsed font with a fast advance-width table for the characters a receipt uses.
pub(crate) struct FontFace {
    pub(crate) parsed: ParsedFont,
    pub(crate) units_per_em: f32,
    /// Advance widths of U+0000..U+2200 in font units (covers Latin, punctuation, €, ẞ).
    table: Vec<u16>,
    /// Which of U+0000..U+2200 the font has.
    present: Vec<bool>,
    /// The glyph printed for characters the font lacks (U+FFFD, else `?`), and its advance.
    replacement: char,
    fallback: u16,
}

impl FontFace {
    pub(crate) fn load(bytes: &[u8]) -> Result<Self, String> {
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
            .ok_or_else(|| "DejaVu Sans could not be parsed".to_string())?;
        Ok(Self::from_parsed(parsed))
    }

    /// The face cut down to [`LATIN`] and without hinting: a font program of its own, with
    /// glyph ids that every receipt shares, so a receipt only has to drop the glyphs it does
    /// not print (no renumbering, no subsetter per receipt).
    fn latin(full: &FontFace) -> Result<(Self, Cuttable), String> {
        let glyphs: std::collections::BTreeMap<u16, String> = latin_repertoire()
            .filter_map(|c| {
                full.parsed
                    .lookup_glyph_index(c as u32)
                    .map(|gid| (gid, c.to_string()))
            })
            .collect();
        let subset = printpdf::font::subset_font(&full.parsed, &glyphs)?;
        let cuttable = Cuttable::new(&subset.bytes)?;
        let parsed = ParsedFont::from_bytes(&cuttable.whole(), 0, &mut Vec::new())
            .ok_or_else(|| "the Latin subset of DejaVu Sans could not be parsed".to_string())?;
        Ok((Self::from_parsed(parsed), cuttable))
    }

    fn from_parsed(parsed: ParsedFont) -> Self {
        let units_per_em = f32::from(parsed.font_metrics.units_per_em.max(1));
        let (replacement, replacement_gid) = ['\u{FFFD}', '?']
            .into_iter()
            .find_map(|c| parsed.lookup_glyph_index(c as u32).map(|gid| (c, gid)))
            .unwrap_or(('?', 0));
        let fallback = parsed.get_horizontal_advance(replacement_gid);
        let gids: Vec<Option<u16>> = (0u32..0x2200)
            .map(|cp| parsed.lookup_glyph_index(cp))
            .collect();
        let present = gids.iter().map(Option::is_some).collect();
        let table = gids
            .iter()
            .map(|gid| gid.map_or(fallback, |g| parsed.get_horizontal_advance(g)))
            .collect();
        FontFace {
            parsed,
            units_per_em,
            table,
            present,
            replacement,
            fallback,
        }
    }

    pub(crate) fn advance(&self, c: char) -> u16 {
        let cp = c as usize;
        if let Some(w) = self.table.get(cp) {
            return *w;
        }
        match self.parsed.lookup_glyph_index(c as u32) {
            Some(gid) => self.parsed.get_horizontal_advance(gid),
            None => self.fallback,
        }
    }

    pub(crate) fn has(&self, c: char) -> bool {
        match self.present.get(c as usize) {
            Some(p) => *p,
            None => self.parsed.lookup_glyph_index(c as u32).is_some(),
        }
    }

    /// `text` with characters the font lacks (emoji, most non-Latin scripts) replaced by
    /// U+FFFD, so nothing disappears silently. The attachment keeps the original text.
    pub(crate) fn printable<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if text.chars().all(|c| self.has(c)) {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(
                text.chars()
                    .map(|c| if self.has(c) { c } else { self.replacement })
                    .collect(),
            )
        }
    }

    /// Width of `text` at `size` points, in points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.advance(c))).sum();
        units as f32 * size / self.units_per_em
    }
}

/// What nearly every receipt in a German office prints: Basic Latin, Latin-1, Latin
/// Extended-A (Polish, Czech, Turkish, Hungarian … names), Romanian comma letters, dashes,
/// quotes, bullet, ellipsis, per mille, €, №, ™, ẞ and the replacement character.
pub(crate) const LATIN: &[(u32, u32)] = &[
    (0x20, 0x7E),
    (0xA0, 0x17F),
    (0x218, 0x21B),
    (0x1E9E, 0x1E9E),
    (0x2010, 0x2027),
    (0x2030, 0x2030),
    (0x2039, 0x203A),
    (0x20AC, 0x20AC),
    (0x2116, 0x2116),
    (0x2122, 0x2122),
    (0xFFFD, 0xFFFD),
];

pub(crate) fn latin_repertoire() -> impl Iterator<Item = char> {
    LATIN
        .iter()
        .flat_map(|&(a, b)| (a..=b).filter_map(char::from_u32))
}

/// A regular and a bold face.
pub(crate) struct FontSet {
    pub(crate) regular: FontFace,
    pub(crate) bold: FontFace,
}

/// The two font sets: the Latin cut that receipts use whenever every character they print
/// is in it, and the whole DejaVu Sans, subset per receipt by printpdf, for the others
/// (Greek, Cyrillic, Vietnamese …).
pub(crate) struct Fonts {
    pub(crate) latin: FontSet,
    pub(crate) full: FontSet,
    /// The Latin cut's programs (regular, bold), to cut per receipt.
    pub(crate) programs: Vec<LatinProgram>,
}

/// A Latin cut's font program: whole, as printpdf embeds it, and prepared to be cut.
pub(crate) struct LatinProgram {
    pub(crate) whole: Vec<u8>,
    pub(crate) prepared: Prepared,
}

pub(crate) fn fonts() -> Result<&'static Fonts, ReceiptError> {
    static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let full = FontSet {
                regular: FontFace::load(REGULAR_TTF)?,
                bold: FontFace::load(BOLD_TTF)?,
            };
            let (regular, regular_cut) = FontFace::latin(&full.regular)?;
            let (bold, bold_cut) = FontFace::latin(&full.bold)?;
            let mut programs = Vec::with_capacity(2);
            for cuttable in [regular_cut, bold_cut] {
                programs.push(LatinProgram {
                    whole: cuttable.whole(),
                    prepared: cuttable.prepare()?,
                });
            }
            Ok(Fonts {
                latin: FontSet { regular, bold },
                full,
                programs,
            })
        })
        .as_ref()
        .map_err(|e| ReceiptError::Font(e.clone()))
}

/// Cuts every embedded TrueType program of `doc` down to the glyphs its `/W` lists: a
/// program of the Latin cut ([`Fonts::programs`]) becomes a cut of it (glyph ids kept),
/// compressed from pieces deflated at start; any other program (printpdf's own subsets)
/// loses its hinting and is compressed later with the other streams. Each gets a subset tag
/// made from its glyph set.
pub(crate) fn cut_programs(doc: &mut Document) -> Result<(), ReceiptError> {
    let programs = &fonts()?.programs;
    let font_error = |what: &str| ReceiptError::Font(format!("embedded font: {what}"));
    // (Type0 font, its descriptor, its FontFile2 stream, the glyphs it shows)
    let mut found: Vec<(ObjectId, ObjectId, ObjectId, Vec<u16>)> = Vec::new();
    for (id, object) in &doc.objects {
        let Ok(dict) = object.as_dict() else {
            continue;
        };
        if !matches!(dict.get(b"Subtype"), Ok(Object::Name(n)) if n == b"Type0") {
            continue;
        }
        let Some(cid_font) = descendant(doc, dict) else {
            continue;
        };
        if !matches!(cid_font.get(b"Subtype"), Ok(Object::Name(n)) if n == b"CIDFontType2") {
            continue;
        }
        let Ok(Object::Reference(descriptor)) = cid_font.get(b"FontDescriptor") else {
            continue;
        };
        let Ok(Object::Reference(program)) = doc
            .get_dictionary(*descriptor)
            .and_then(|d| d.get(b"FontFile2"))
        else {
            continue;
        };
        let widths = match cid_font.get(b"W") {
            Ok(Object::Array(w)) => w.clone(),
            Ok(Object::Reference(r)) => doc
                .get_object(*r)
                .and_then(Object::as_array)
                .cloned()
                .map_err(|_| font_error("unreadable /W"))?,
            _ => Vec::new(),
        };
        found.push((*id, *descriptor, *program, glyphs_of_widths(&widths)));
    }
    for (font, descriptor, program, glyphs) in found {
        let Ok(Object::Stream(stream)) = doc.get_object_mut(program) else {
            return Err(font_error("FontFile2 is not a stream"));
        };
        match programs.iter().find(|p| p.whole == stream.content) {
            Some(latin) => {
                let (deflated, length) = latin.prepared.cut_deflated(glyphs.iter().copied());
                stream.set_content(deflated);
                stream
                    .dict
                    .set("Filter", Object::Name(b"FlateDecode".to_vec()));
                stream.dict.set("Length1", Object::Integer(length as i64));
            }
            None => {
                let unhinted = Cuttable::new(&stream.content)
                    .map_err(|e| font_error(&e))?
                    .whole();
                stream
                    .dict
                    .set("Length1", Object::Integer(unhinted.len() as i64));
                stream.set_content(unhinted);
            }
        }
        let tag = subset_tag(&glyphs);
        if let Ok(Object::Dictionary(d)) = doc.get_object_mut(descriptor) {
            rename(d, b"FontName", &tag);
        }
        let Ok(Object::Dictionary(type0)) = doc.get_object_mut(font) else {
            continue;
        };
        rename(type0, b"BaseFont", &tag);
        let direct = match type0.get_mut(b"DescendantFonts") {
            Ok(Object::Array(kids)) => match kids.first_mut() {
                Some(Object::Dictionary(d)) => {
                    rename(d, b"BaseFont", &tag);
                    None
                }
                Some(Object::Reference(r)) => Some(*r),
                _ => None,
            },
            _ => None,
        };
        if let Some(Ok(Object::Dictionary(d))) = direct.map(|r| doc.get_object_mut(r)) {
            rename(d, b"BaseFont", &tag);
        }
    }
    Ok(())
}

/// The CIDFont of a Type0 font (printpdf writes it inline).
fn descendant<'a>(
    doc: &'a Document,
    type0: &'a lopdf::Dictionary,
) -> Option<&'a lopdf::Dictionary> {
    match type0.get(b"DescendantFonts").ok()? {
        Object::Array(kids) => match kids.first()? {
            Object::Dictionary(d) => Some(d),
            Object::Reference(r) => doc.get_dictionary(*r).ok(),
            _ => None,
        },
        _ => None,
    }
}

/// The glyph ids a CIDFont's `/W` gives widths for (`c [w …]` and `c_first c_last w`).
fn glyphs_of_widths(widths: &[Object]) -> Vec<u16> {
    let mut glyphs = Vec::new();
    let mut i = 0;
    while i < widths.len() {
        let Ok(first) = widths[i].as_i64() else {
            break;
        };
        match widths.get(i + 1) {
            Some(Object::Array(list)) => {
                glyphs.extend(
                    (first..first + list.len() as i64).filter_map(|g| u16::try_from(g).ok()),
                );
                i += 2;
            }
            Some(last) => {
                let last = last.as_i64().unwrap_or(first);
                glyphs.extend((first..=last).filter_map(|g| u16::try_from(g).ok()));
                i += 3;
            }
            None => break,
        }
    }
    glyphs
}

/// Six capitals from the glyph set (ISO 32000-1 9.6.4): different cuts get different tags,
/// so a tool that merges receipts never mistakes one cut for another.
fn subset_tag(glyphs: &[u16]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for g in glyphs {
        hasher.update(g.to_be_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// Puts `tag+` before the font name under `key` (replacing a tag printpdf gave it).
fn rename(dict: &mut lopdf::Dictionary, key: &[u8], tag: &str) {
    if let Ok(Object::Name(name)) = dict.get_mut(key) {
        let base = match name.get(6) {
            Some(b'+') => name[7..].to_vec(),
            _ => name.clone(),
        };
        let mut tagged = format!("{tag}+").into_bytes();
        tagged.extend_from_slice(&base);
        *name = tagged;
    }
}

/// Greedy word wrap at glyph advances. Explicit `\n` starts a new line; a word wider than
/// the line is broken between characters.
pub(crate) fn wrap(face: &FontFace, text: &str, size: f32, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let space = face.width(" ", size);
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0f32;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word_w = face.width(word, size);
            let needed = if line.is_empty() {
                word_w
            } else {
                line_w + space + word_w
            };
            if needed <= max_width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w = needed;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if word_w <= max_width {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // Break an over-long word (IBAN, URL, a run of letters) at character level.
            for c in word.chars() {
                let w = face.width(c.encode_utf8(&mut [0; 4]), size);
                if line_w + w > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += w;
            }
        }
        lines.push(line);
    }
    lines
}

/// Shrinks a font size until `text` fits `max_width` (long municipality names).
pub(crate) fn fit_size(face: &FontFace, text: &str, size: f32, max_width: f32) -> f32 {
    let w = face.width(text, size);
    if w <= max_width || w <= 0.0 {
        size
    } else {
        // Below 7 pt a name is unreadable; such a name overlaps rather than vanish.
        (size * max_width / w).max(7.0)
    }
}
