//! The little TrueType (sfnt) surgery the receipts need: a font without its hinting, and a
//! cut of it that keeps only the glyphs one receipt prints. Glyph ids never change, so the
//! page content, `/W` and `/ToUnicode` that printpdf wrote for the whole font stay right.
//!
//! PDF viewers position every glyph themselves from `/W` and rasterise outlines at many sizes
//! on screen and in print; the TrueType instructions (`fpgm`, `prep`, `cvt `, per-glyph
//! programs) are of no use in a receipt. With them went the long `name` records (licence
//! texts) and the glyph names: together 37 of the Latin cut's 60 KB.

use std::ops::Range;

use flate2::{Compress, Compression, FlushCompress};

/// The tables a PDF's embedded TrueType program needs (ISO 32000-1, 9.9: `glyf`, `head`,
/// `hhea`, `hmtx`, `loca`, `maxp`; `cmap`, `name`, `OS/2` and `post` for viewers that look up
/// names and metrics there). Everything else is dropped.
const KEPT: [&[u8; 4]; 10] = [
    b"OS/2", b"cmap", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp", b"name", b"post",
];

/// Name records kept: copyright, family, subfamily, unique id, full name, version, PostScript
/// name (what font subsetters commonly keep; the licence texts stay in the repository).
const KEPT_NAME_IDS: Range<u16> = 0..7;

type Tag = [u8; 4];

fn err(what: &str) -> String {
    format!("font program: {what}")
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, String> {
    data.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| err("truncated"))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, String> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| err("truncated"))
}

fn put_u16(data: &mut [u8], at: usize, value: u16) {
    data[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// The tables of a single-face sfnt, in directory order.
fn tables(font: &[u8]) -> Result<Vec<(Tag, &[u8])>, String> {
    let count = usize::from(u16_at(font, 4)?);
    (0..count)
        .map(|i| {
            let entry = 12 + 16 * i;
            let tag: Tag = font
                .get(entry..entry + 4)
                .and_then(|t| t.try_into().ok())
                .ok_or_else(|| err("truncated directory"))?;
            let offset = u32_at(font, entry + 8)? as usize;
            let length = u32_at(font, entry + 12)? as usize;
            let data = font
                .get(offset..offset + length)
                .ok_or_else(|| err("table outside the file"))?;
            Ok((tag, data))
        })
        .collect()
}

fn table<'a>(tables: &[(Tag, &'a [u8])], tag: &Tag) -> Result<&'a [u8], String> {
    tables
        .iter()
        .find(|(t, _)| t == tag)
        .map(|(_, d)| *d)
        .ok_or_else(|| err(&format!("no {} table", String::from_utf8_lossy(tag))))
}

fn checksum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(4);
    let mut sum = chunks.by_ref().fold(0u32, |s, c| {
        s.wrapping_add(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    });
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        sum = sum.wrapping_add(u32::from_be_bytes(last));
    }
    sum
}

/// A table as the directory lists it.
struct Entry {
    tag: Tag,
    len: usize,
    sum: u32,
}

/// The sfnt header and table directory for tables laid out in this order right after it,
/// each padded to four bytes (the directory itself is sorted by tag).
fn directory(entries: &[Entry]) -> Vec<u8> {
    let count = entries.len() as u16;
    let entry_selector = 15 - count.leading_zeros() as u16;
    let search_range = (1u16 << entry_selector) * 16;
    let mut out = Vec::with_capacity(12 + 16 * entries.len());
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&search_range.to_be_bytes());
    out.extend_from_slice(&entry_selector.to_be_bytes());
    out.extend_from_slice(&(count * 16 - search_range).to_be_bytes());
    let mut offsets = Vec::with_capacity(entries.len());
    let mut at = 12 + 16 * entries.len();
    for entry in entries {
        offsets.push(at);
        at += entry.len.next_multiple_of(4);
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| entries[i].tag);
    for i in order {
        let entry = &entries[i];
        out.extend_from_slice(&entry.tag);
        out.extend_from_slice(&entry.sum.to_be_bytes());
        out.extend_from_slice(&(offsets[i] as u32).to_be_bytes());
        out.extend_from_slice(&(entry.len as u32).to_be_bytes());
    }
    out
}

/// `head.checkSumAdjustment` for a font whose directory is `dir` and whose tables have the
/// checksums `sums` (with the adjustment itself 0 while they were taken).
fn adjustment(dir: &[u8], sums: impl Iterator<Item = u32>) -> u32 {
    let total = sums.fold(checksum(dir), u32::wrapping_add);
    0xB1B0_AFBAu32.wrapping_sub(total)
}

/// Writes an sfnt with `tables` in this physical order, `head` first, with
/// `checkSumAdjustment` 0 in it; sets the adjustment.
fn write(tables: &[(Tag, &[u8])]) -> Vec<u8> {
    let entries: Vec<Entry> = tables
        .iter()
        .map(|(tag, data)| Entry {
            tag: *tag,
            len: data.len(),
            sum: checksum(data),
        })
        .collect();
    let mut out = directory(&entries);
    let head_at = out.len();
    for (_, data) in tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    let adjust = adjustment(&out[..head_at], entries.iter().map(|e| e.sum));
    if tables.first().is_some_and(|(tag, _)| tag == b"head") && out.len() >= head_at + 12 {
        out[head_at + 8..head_at + 12].copy_from_slice(&adjust.to_be_bytes());
    }
    out
}

/// Component glyph ids of a composite glyph, and the glyph without its instructions.
fn strip_glyph(glyph: &[u8]) -> Result<(Vec<u8>, Vec<u16>), String> {
    if glyph.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let contours = u16_at(glyph, 0)? as i16;
    if contours >= 0 {
        let n = usize::from(contours as u16);
        let instructions_at = 10 + 2 * n;
        let length = usize::from(u16_at(glyph, instructions_at)?);
        let rest = instructions_at + 2 + length;
        if rest > glyph.len() {
            return Err(err("glyph instructions beyond the glyph"));
        }
        let mut out = Vec::with_capacity(glyph.len() - length);
        out.extend_from_slice(&glyph[..instructions_at]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&glyph[rest..]);
        return Ok((out, Vec::new()));
    }
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const X_AND_Y_SCALE: u16 = 0x0040;
    const TWO_BY_TWO: u16 = 0x0080;
    const HAVE_INSTRUCTIONS: u16 = 0x0100;
    let mut out = glyph.to_vec();
    let mut components = Vec::new();
    let mut at = 10;
    loop {
        let flags = u16_at(glyph, at)?;
        components.push(u16_at(glyph, at + 2)?);
        put_u16(&mut out, at, flags & !HAVE_INSTRUCTIONS);
        at += 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        at += if flags & HAVE_SCALE != 0 {
            2
        } else if flags & X_AND_Y_SCALE != 0 {
            4
        } else if flags & TWO_BY_TWO != 0 {
            8
        } else {
            0
        };
        if at > glyph.len() {
            return Err(err("composite glyph beyond the glyph"));
        }
        if flags & MORE_COMPONENTS == 0 {
            break;
        }
    }
    out.truncate(at);
    Ok((out, components))
}

/// `name` with only the records [`KEPT_NAME_IDS`], format 0.
fn short_name(name: &[u8]) -> Result<Vec<u8>, String> {
    let count = usize::from(u16_at(name, 2)?);
    let strings = usize::from(u16_at(name, 4)?);
    let mut records = Vec::new();
    for i in 0..count {
        let r = 6 + 12 * i;
        let id = u16_at(name, r + 6)?;
        if !KEPT_NAME_IDS.contains(&id) {
            continue;
        }
        let length = usize::from(u16_at(name, r + 8)?);
        let offset = strings + usize::from(u16_at(name, r + 10)?);
        let text = name
            .get(offset..offset + length)
            .ok_or_else(|| err("name record outside the table"))?;
        records.push((&name[r..r + 8], text));
    }
    let header = 6 + 12 * records.len();
    let mut out = Vec::new();
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    out.extend_from_slice(&(header as u16).to_be_bytes());
    let mut offset = 0usize;
    for (fields, text) in &records {
        out.extend_from_slice(fields);
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(&(offset as u16).to_be_bytes());
        offset += text.len();
    }
    for (_, text) in &records {
        out.extend_from_slice(text);
    }
    Ok(out)
}

/// A font without hinting, ready to be cut: its tables, the glyphs with their components.
pub(crate) struct Cuttable {
    /// `head`, with `checkSumAdjustment` 0; `indexToLocFormat` is set per cut.
    head: Vec<u8>,
    /// Every other table but `loca` and `glyf`, in the order they are written.
    fixed: Vec<(Tag, Vec<u8>)>,
    /// The glyph data, each glyph padded to four bytes, so that a glyph's share of the
    /// `glyf` checksum does not depend on where it lands.
    glyf: Vec<u8>,
    glyphs: Vec<Range<usize>>,
    components: Vec<Vec<u16>>,
}

/// A [`Cuttable`] font prepared once to be cut per receipt without compressing anything:
/// what does not change between receipts is already deflated (see
/// [`Prepared::cut_deflated`]).
pub(crate) struct Prepared {
    pub(crate) font: Cuttable,
    /// The fixed tables as laid out in the file (each padded to four bytes), and deflated.
    fixed_bytes: Vec<u8>,
    fixed_deflated: Vec<u8>,
    /// Per glyph: its checksum, and its deflated form (a byte-aligned piece of a deflate
    /// stream, ended by a sync flush) as a range of `glyphs_deflated`.
    glyph_sums: Vec<u32>,
    glyphs_deflated: Vec<u8>,
    glyph_pieces: Vec<Range<usize>>,
}

/// Deflates `data` as a byte-aligned piece of a raw deflate stream that others can follow:
/// no zlib header, the last block not final, ended by an empty stored block (sync flush).
/// At the best level: pieces are made once, at start. `compressor` is reset and reused
/// (making a new one for each of some 700 glyphs cost more than compressing them).
fn deflate_piece(compressor: &mut Compress, data: &[u8]) -> Result<Vec<u8>, String> {
    compressor.reset();
    let mut out = Vec::with_capacity(data.len() + data.len() / 8 + 64);
    compressor
        .compress_vec(data, &mut out, FlushCompress::Sync)
        .map_err(|e| err(&e.to_string()))?;
    if compressor.total_in() != data.len() as u64 || out.len() == out.capacity() {
        return Err(err("a deflated piece did not fit its buffer"));
    }
    Ok(out)
}

/// A stored (uncompressed) deflate block, not final, for small data that changes per cut.
fn stored_block(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len() as u16;
    out.push(0x00);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
}

/// Adler-32 (RFC 1950) running over several slices.
struct Adler32 {
    a: u32,
    b: u32,
}

impl Adler32 {
    const MOD: u32 = 65_521;

    fn new() -> Self {
        Adler32 { a: 1, b: 0 }
    }

    fn update(&mut self, data: &[u8]) {
        // 5552 bytes is the most that cannot overflow `b` before the modulo.
        for chunk in data.chunks(5552) {
            for &byte in chunk {
                self.a += u32::from(byte);
                self.b += self.a;
            }
            self.a %= Self::MOD;
            self.b %= Self::MOD;
        }
    }

    fn value(&self) -> u32 {
        (self.b << 16) | self.a
    }
}

impl Cuttable {
    /// Reads a TrueType font and drops its hinting (see the module comment).
    pub(crate) fn new(font: &[u8]) -> Result<Self, String> {
        let tables = tables(font)?;
        let mut head = table(&tables, b"head")?.to_vec();
        let maxp = table(&tables, b"maxp")?;
        let loca = table(&tables, b"loca")?;
        let glyf = table(&tables, b"glyf")?;
        if head.len() < 54 || maxp.len() < 6 {
            return Err(err("head or maxp too short"));
        }
        let long_loca = u16_at(&head, 50)? != 0;
        let count = usize::from(u16_at(maxp, 4)?);
        let offset = |i: usize| -> Result<usize, String> {
            Ok(if long_loca {
                u32_at(loca, 4 * i)? as usize
            } else {
                2 * usize::from(u16_at(loca, 2 * i)?)
            })
        };
        let mut data = Vec::with_capacity(glyf.len());
        let mut glyphs = Vec::with_capacity(count);
        let mut components = Vec::with_capacity(count);
        for i in 0..count {
            let (start, end) = (offset(i)?, offset(i + 1)?);
            let glyph = glyf
                .get(start..end)
                .ok_or_else(|| err("glyph outside glyf"))?;
            let (stripped, parts) = strip_glyph(glyph)?;
            let at = data.len();
            data.extend_from_slice(&stripped);
            data.resize(data.len().next_multiple_of(4), 0);
            glyphs.push(at..data.len());
            components.push(parts);
        }
        // Instructions may no longer change advance widths (flags bit 4).
        let flags = u16_at(&head, 16)?;
        put_u16(&mut head, 16, flags & !0x0010);
        head[8..12].fill(0);
        let mut fixed = Vec::new();
        for (tag, content) in &tables {
            let content = match tag {
                b"head" | b"loca" | b"glyf" => continue,
                b"maxp" if content.len() >= 32 => {
                    let mut m = content.to_vec();
                    // maxZones 1; twilight points, storage, function and instruction
                    // definitions, stack elements and instruction size all 0.
                    put_u16(&mut m, 14, 1);
                    m[16..28].fill(0);
                    m
                }
                b"name" => short_name(content)?,
                b"post" if content.len() >= 32 => {
                    // Format 3: no glyph names.
                    let mut p = content[..32].to_vec();
                    p[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
                    p
                }
                t if KEPT.contains(&t) => content.to_vec(),
                _ => continue,
            };
            fixed.push((*tag, content));
        }
        Ok(Cuttable {
            head,
            fixed,
            glyf: data,
            glyphs,
            components,
        })
    }

    /// Deflates the fixed tables and every glyph once, for [`Prepared::cut_deflated`].
    pub(crate) fn prepare(self) -> Result<Prepared, String> {
        let mut fixed_bytes = Vec::new();
        for (_, content) in &self.fixed {
            fixed_bytes.extend_from_slice(content);
            fixed_bytes.resize(fixed_bytes.len().next_multiple_of(4), 0);
        }
        let mut compressor = Compress::new(Compression::best(), false);
        let fixed_deflated = deflate_piece(&mut compressor, &fixed_bytes)?;
        let mut glyphs_deflated = Vec::new();
        let mut glyph_pieces = Vec::with_capacity(self.glyphs.len());
        let mut glyph_sums = Vec::with_capacity(self.glyphs.len());
        for range in &self.glyphs {
            let glyph = &self.glyf[range.clone()];
            glyph_sums.push(checksum(glyph));
            let at = glyphs_deflated.len();
            if !glyph.is_empty() {
                glyphs_deflated.extend_from_slice(&deflate_piece(&mut compressor, glyph)?);
            }
            glyph_pieces.push(at..glyphs_deflated.len());
        }
        Ok(Prepared {
            font: self,
            fixed_bytes,
            fixed_deflated,
            glyph_sums,
            glyphs_deflated,
            glyph_pieces,
        })
    }

    /// The whole font without hinting.
    pub(crate) fn whole(&self) -> Vec<u8> {
        self.cut((0..self.glyphs.len()).map(|g| g as u16))
    }

    /// Which glyphs a cut for `used` keeps: those, their components, and .notdef.
    fn keep(&self, used: impl IntoIterator<Item = u16>) -> Vec<bool> {
        let count = self.glyphs.len();
        let mut keep = vec![false; count];
        let mut pending: Vec<u16> = used.into_iter().collect();
        pending.push(0);
        while let Some(g) = pending.pop() {
            let g = usize::from(g);
            if g < count && !keep[g] {
                keep[g] = true;
                pending.extend_from_slice(&self.components[g]);
            }
        }
        keep
    }

    /// `loca` for the kept glyphs (the others empty), `head` to go with it, and the length
    /// of `glyf`.
    fn loca_and_head(&self, keep: &[bool]) -> (Vec<u8>, Vec<u8>, usize) {
        let glyf_len: usize = self
            .glyphs
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(r, _)| r.len())
            .sum();
        let long = glyf_len > 0x1FFFE;
        let mut loca = Vec::with_capacity((keep.len() + 1) * if long { 4 } else { 2 });
        let mut push = |at: usize| {
            if long {
                loca.extend_from_slice(&(at as u32).to_be_bytes());
            } else {
                loca.extend_from_slice(&((at / 2) as u16).to_be_bytes());
            }
        };
        push(0);
        let mut at = 0;
        for (range, kept) in self.glyphs.iter().zip(keep) {
            if *kept {
                at += range.len();
            }
            push(at);
        }
        let mut head = self.head.clone();
        put_u16(&mut head, 50, u16::from(long));
        (loca, head, glyf_len)
    }

    /// The font with the outlines of `used` glyphs (and .notdef, and their components); the
    /// other glyph ids stay, empty.
    pub(crate) fn cut(&self, used: impl IntoIterator<Item = u16>) -> Vec<u8> {
        let keep = self.keep(used);
        let (loca, head, glyf_len) = self.loca_and_head(&keep);
        let mut glyf = Vec::with_capacity(glyf_len);
        for (range, kept) in self.glyphs.iter().zip(&keep) {
            if *kept {
                glyf.extend_from_slice(&self.glyf[range.clone()]);
            }
        }
        let mut tables: Vec<(Tag, &[u8])> = Vec::with_capacity(self.fixed.len() + 3);
        tables.push((*b"head", &head));
        tables.extend(self.fixed.iter().map(|(t, d)| (*t, d.as_slice())));
        tables.push((*b"loca", &loca));
        tables.push((*b"glyf", &glyf));
        write(&tables)
    }
}

impl Prepared {
    /// The same font as [`Cuttable::cut`], as a zlib stream (for `/FlateDecode`), and its length
    /// uncompressed (`/Length1`). Nothing is compressed here: the fixed tables and every
    /// glyph were deflated once, as byte-aligned pieces, and are put one after the other;
    /// the few hundred bytes that change (directory, `head`, `loca`) go in stored blocks.
    pub(crate) fn cut_deflated(&self, used: impl IntoIterator<Item = u16>) -> (Vec<u8>, usize) {
        let font = &self.font;
        let keep = font.keep(used);
        let (mut loca, mut head, glyf_len) = font.loca_and_head(&keep);
        let glyf_sum = self
            .glyph_sums
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .fold(0u32, |s, (g, _)| s.wrapping_add(*g));
        let mut entries = Vec::with_capacity(font.fixed.len() + 3);
        entries.push(Entry {
            tag: *b"head",
            len: head.len(),
            sum: checksum(&head),
        });
        entries.extend(font.fixed.iter().map(|(tag, d)| Entry {
            tag: *tag,
            len: d.len(),
            sum: checksum(d),
        }));
        entries.push(Entry {
            tag: *b"loca",
            len: loca.len(),
            sum: checksum(&loca),
        });
        entries.push(Entry {
            tag: *b"glyf",
            len: glyf_len,
            sum: glyf_sum,
        });
        let dir = directory(&entries);
        let adjust = adjustment(&dir, entries.iter().map(|e| e.sum));
        head[8..12].copy_from_slice(&adjust.to_be_bytes());
        head.resize(head.len().next_multiple_of(4), 0);
        loca.resize(loca.len().next_multiple_of(4), 0);

        let mut adler = Adler32::new();
        let mut start = dir;
        start.extend_from_slice(&head);
        adler.update(&start);
        adler.update(&self.fixed_bytes);
        adler.update(&loca);
        let length = start.len() + self.fixed_bytes.len() + loca.len() + glyf_len;
        let mut out = Vec::with_capacity(length / 2 + 1024);
        // zlib header: deflate with a 32 KiB window, no preset dictionary, (0x7801 % 31 == 0).
        out.extend_from_slice(&[0x78, 0x01]);
        stored_block(&mut out, &start);
        out.extend_from_slice(&self.fixed_deflated);
        stored_block(&mut out, &loca);
        for ((range, piece), kept) in font.glyphs.iter().zip(&self.glyph_pieces).zip(&keep) {
            if *kept {
                adler.update(&font.glyf[range.clone()]);
                out.extend_from_slice(&self.glyphs_deflated[piece.clone()]);
            }
        }
        // An empty final stored block ends the deflate stream.
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
        out.extend_from_slice(&adler.value().to_be_bytes());
        (out, length)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fonts::REGULAR_TTF;

    fn glyph(font: &[u8], gid: usize) -> &[u8] {
        let t = tables(font).unwrap();
        let head = table(&t, b"head").unwrap();
        let loca = table(&t, b"loca").unwrap();
        let glyf = table(&t, b"glyf").unwrap();
        let (a, b) = if u16_at(head, 50).unwrap() != 0 {
            (
                u32_at(loca, 4 * gid).unwrap(),
                u32_at(loca, 4 * gid + 4).unwrap(),
            )
        } else {
            (
                2 * u32::from(u16_at(loca, 2 * gid).unwrap()),
                2 * u32::from(u16_at(loca, 2 * gid + 2).unwrap()),
            )
        };
        &glyf[a as usize..b as usize]
    }

    #[test]
    fn the_whole_font_loses_its_hinting_and_keeps_its_outlines() {
        let font = Cuttable::new(REGULAR_TTF).unwrap();
        let whole = font.whole();
        assert!(whole.len() < REGULAR_TTF.len() * 3 / 4, "{}", whole.len());
        let names: Vec<Tag> = tables(&whole).unwrap().iter().map(|(t, _)| *t).collect();
        for dropped in [b"fpgm", b"prep", b"cvt "] {
            assert!(!names.contains(dropped));
        }
        // The whole file sums to the magic number (head.checkSumAdjustment is right).
        assert_eq!(checksum(&whole), 0xB1B0_AFBA);
        // 'A' keeps its points and loses its instructions.
        let gid = usize::from(
            printpdf::ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new())
                .unwrap()
                .lookup_glyph_index('A' as u32)
                .unwrap(),
        );
        let (before, after) = (glyph(REGULAR_TTF, gid), glyph(&whole, gid));
        assert_eq!(before[..10], after[..10]);
        assert!(after.len() < before.len());
        // And the font still parses, with the same advance.
        let parsed = printpdf::ParsedFont::from_bytes(&whole, 0, &mut Vec::new()).unwrap();
        assert_eq!(parsed.lookup_glyph_index('A' as u32), Some(gid as u16));
    }

    #[test]
    fn a_cut_keeps_used_glyphs_their_components_and_notdef() {
        let font = Cuttable::new(REGULAR_TTF).unwrap();
        let parsed = printpdf::ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new()).unwrap();
        let gid = |c: char| parsed.lookup_glyph_index(c as u32).unwrap();
        let (a_umlaut, x) = (gid('ä'), gid('x'));
        let cut = font.cut([a_umlaut]);
        assert!(cut.len() < font.whole().len() / 10, "{}", cut.len());
        assert!(!glyph(&cut, usize::from(a_umlaut)).is_empty());
        assert!(!glyph(&cut, 0).is_empty());
        assert!(glyph(&cut, usize::from(x)).is_empty());
        // ä is a composite in DejaVu Sans: its parts came along.
        for part in &font.components[usize::from(a_umlaut)] {
            assert!(!glyph(&cut, usize::from(*part)).is_empty());
        }
        assert!(!font.components[usize::from(a_umlaut)].is_empty());
        assert_eq!(font.glyphs.len(), usize::from(parsed.num_glyphs));
    }

    #[test]
    fn the_prepared_stream_inflates_to_the_same_cut() {
        use std::io::Read;
        let font = Cuttable::new(REGULAR_TTF).unwrap().prepare().unwrap();
        let parsed = printpdf::ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new()).unwrap();
        for text in ["Eingangsbestätigung", "ÄÖÜäöüß €„“–", "x", ""] {
            let used: Vec<u16> = text
                .chars()
                .filter_map(|c| parsed.lookup_glyph_index(c as u32))
                .collect();
            let (stream, length) = font.cut_deflated(used.iter().copied());
            let mut inflated = Vec::new();
            // The zlib decoder checks the Adler-32 at the end.
            flate2::read::ZlibDecoder::new(&stream[..])
                .read_to_end(&mut inflated)
                .unwrap();
            assert_eq!(inflated, font.font.cut(used), "{text:?}");
            assert_eq!(inflated.len(), length);
            assert_eq!(checksum(&inflated), 0xB1B0_AFBA);
        }
    }
}
