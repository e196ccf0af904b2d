//! The shipped DejaVu Sans faces: glyph advances for wrapping and fitting text, the Latin
//! repertoire the receipts use, and the fixed, pre-cut font programs embedded in every receipt.

use std::sync::OnceLock;

use printpdf::ParsedFont;

use super::error::ReceiptError;

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

    /// The face cut down to [`LATIN`]: a font program of its own, the same for every
    /// receipt, so it is neither subset nor compressed per receipt.
    fn latin(full: &FontFace) -> Result<(Self, Vec<u8>), String> {
        let glyphs: std::collections::BTreeMap<u16, String> = latin_repertoire()
            .filter_map(|c| {
                full.parsed
                    .lookup_glyph_index(c as u32)
                    .map(|gid| (gid, c.to_string()))
            })
            .collect();
        let subset = printpdf::font::subset_font(&full.parsed, &glyphs)?;
        let parsed = ParsedFont::from_bytes(&subset.bytes, 0, &mut Vec::new())
            .ok_or_else(|| "the Latin subset of DejaVu Sans could not be parsed".to_string())?;
        Ok((Self::from_parsed(parsed), subset.bytes))
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

/// The two font sets: the Latin cut (fixed font programs, compressed once) that receipts
/// use whenever every character they print is in it, and the whole DejaVu Sans, subset per
/// receipt, for the others (Greek, Cyrillic, Vietnamese …).
pub(crate) struct Fonts {
    pub(crate) latin: FontSet,
    pub(crate) full: FontSet,
    /// The Latin font programs (regular, bold) as embedded, and deflated.
    pub(crate) programs: Vec<FixedProgram>,
}

/// A font program that is embedded unchanged in every receipt, with its compressed form.
pub(crate) struct FixedProgram {
    pub(crate) bytes: Vec<u8>,
    pub(crate) deflated: Vec<u8>,
}

pub(crate) fn fonts() -> Result<&'static Fonts, ReceiptError> {
    static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let full = FontSet {
                regular: FontFace::load(REGULAR_TTF)?,
                bold: FontFace::load(BOLD_TTF)?,
            };
            let (regular, regular_bytes) = FontFace::latin(&full.regular)?;
            let (bold, bold_bytes) = FontFace::latin(&full.bold)?;
            let programs = [regular_bytes, bold_bytes]
                .into_iter()
                .map(|bytes| {
                    let deflated = crate::deflate::deflate(&bytes).map_err(|e| e.to_string())?;
                    Ok(FixedProgram { bytes, deflated })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Fonts {
                latin: FontSet { regular, bold },
                full,
                programs,
            })
        })
        .as_ref()
        .map_err(|e| ReceiptError::Font(e.clone()))
}

/// The font programs every receipt in the Latin cut embeds unchanged, with their compressed
/// form (see [`compose`]).
pub(crate) fn fixed_programs() -> Result<&'static [FixedProgram], ReceiptError> {
    Ok(&fonts()?.programs)
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
