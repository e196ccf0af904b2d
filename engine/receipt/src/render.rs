//! Lays out layout-language blocks on A4 pages with the shipped DejaVu Sans and builds a
//! printpdf document: greedy word wrapping from glyph advances, page breaks that carry
//! groups over, letterhead, running header and "Seite N von M" footer. Every piece of text
//! is marked content of a structure element (see [`crate::tagged`]); rules, boxes, bars,
//! the band, running header and footer are artifacts.

use std::collections::BTreeMap;

use printpdf::{
    Color, DictItem, FontId, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    Point, Polygon, PolygonRing, Pt, Rect, Rgb, TextItem, WindingOrder,
};

use super::error::ReceiptError;
use super::layout::Block;
use super::model::{Language, Logo, ReceiptModel};

use crate::fonts::{FontFace, FontSet, fit_size, fonts, wrap};
use crate::tagged::{Role, Structure};

mod chrome;

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const MARGIN_X: f32 = 20.0 * MM;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Lowest y (from the bottom) that body text may use; the footer sits below.
const BODY_BOTTOM: f32 = 22.0 * MM;
/// Top of the body on continuation pages (below the running header).
const CONT_TOP: f32 = PAGE_H - 22.0 * MM;
const GROUP_INDENT: f32 = 5.0 * MM;

const BODY_SIZE: f32 = 10.0;
const BODY_LEADING: f32 = 13.5;

#[derive(Clone, Copy, PartialEq)]
struct Colour {
    r: f32,
    g: f32,
    b: f32,
}

impl Colour {
    const TEXT: Colour = Colour::grey(0.13);
    const MUTED: Colour = Colour::grey(0.40);
    const HAIRLINE: Colour = Colour::grey(0.86);
    const WHITE: Colour = Colour::grey(1.0);

    const fn grey(v: f32) -> Self {
        Colour { r: v, g: v, b: v }
    }

    fn parse(hex: &str) -> Result<Self, ReceiptError> {
        let bad = || ReceiptError::Colour(hex.to_string());
        let digits = hex.strip_prefix('#').ok_or_else(bad)?;
        if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let channel = |i: usize| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map(|v| f32::from(v) / 255.0)
                .map_err(|_| bad())
        };
        Ok(Colour {
            r: channel(0)?,
            g: channel(2)?,
            b: channel(4)?,
        })
    }

    /// Mixes with white: `amount` 0 keeps the colour, 1 gives white.
    fn tint(self, amount: f32) -> Self {
        let mix = |c: f32| c + (1.0 - c) * amount;
        Colour {
            r: mix(self.r),
            g: mix(self.g),
            b: mix(self.b),
        }
    }

    fn pdf(self) -> Color {
        Color::Rgb(Rgb::new(self.r, self.g, self.b, None))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Weight {
    Regular,
    Bold,
}

/// An open group: its title (repeated on continuation pages) and where its bar starts.
struct OpenGroup {
    title: String,
    bar_top: f32,
    depth: usize,
    /// Its `Sect` in the structure tree.
    sect: usize,
}

/// Lines of text waiting to be written as one text object: same structure element (or
/// artifact), same face, size and colour. One marked-content sequence and one `BT … ET` per
/// run instead of one per line keeps the page content small; a long receipt's pages are
/// mostly label/value rows of several lines.
struct PendingRun {
    element: Option<usize>,
    weight: Weight,
    size: f32,
    colour: Colour,
    /// (x, baseline, text)
    lines: Vec<(f32, f32, String)>,
}

/// A tinted note box being filled: where to insert the background, and its top.
struct OpenBox {
    insert_at: usize,
    top: f32,
    left: f32,
}

struct Composer<'a> {
    fonts: &'static FontSet,
    /// The whole faces, when `fonts` is the Latin cut: a character only they have makes
    /// `needs_full` true, and the receipt is composed again with them.
    full: Option<&'static FontSet>,
    needs_full: bool,
    regular_id: FontId,
    bold_id: FontId,
    accent: Colour,
    model: &'a ReceiptModel,
    pages: Vec<Vec<Op>>,
    y: f32,
    groups: Vec<OpenGroup>,
    structure: Structure,
    /// The structure element text goes to now; `None`: text is an artifact.
    target: Option<usize>,
    /// The table that consecutive label/value rows join.
    open_table: Option<usize>,
    /// The list that consecutive list items join.
    open_list: Option<usize>,
    /// Text not written yet: runs are written, in order, before any other drawing and
    /// before the page changes, so text still goes over what was drawn before it.
    pending: Vec<PendingRun>,
}

fn artifact_start() -> Op {
    Op::BeginMarkedContent {
        tag: "Artifact".into(),
    }
}

fn marked_start(role: Role, mcid: i64) -> Op {
    Op::BeginMarkedContentWithProperties {
        tag: role.name().into(),
        properties: DictItem::Dict {
            map: BTreeMap::from([("MCID".to_string(), DictItem::Int(mcid))]),
        },
    }
}

impl<'a> Composer<'a> {
    /// The current page's operations, with pending text written first.
    fn ops(&mut self) -> &mut Vec<Op> {
        self.flush();
        self.page_ops()
    }

    fn page_ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Writes the pending text runs to the current page.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let page = self.page_index();
        for run in std::mem::take(&mut self.pending) {
            let start = match run.element {
                Some(element) => {
                    let mcid = self.structure.mark(element, page);
                    marked_start(self.structure.elements[element].role, mcid)
                }
                None => artifact_start(),
            };
            let font = match run.weight {
                Weight::Regular => self.regular_id.clone(),
                Weight::Bold => self.bold_id.clone(),
            };
            let ops = self.page_ops();
            ops.reserve(6 + 2 * run.lines.len());
            ops.push(start);
            ops.push(Op::StartTextSection);
            ops.push(Op::SetFillColor {
                col: run.colour.pdf(),
            });
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(font),
                size: Pt(run.size),
            });
            // `Td` moves from the start of the previous line.
            let (mut from_x, mut from_y) = (0.0, 0.0);
            for (x, y, text) in run.lines {
                ops.push(Op::SetTextCursor {
                    pos: Point {
                        x: Pt(x - from_x),
                        y: Pt(y - from_y),
                    },
                });
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(text)],
                });
                (from_x, from_y) = (x, y);
            }
            ops.push(Op::EndTextSection);
            ops.push(Op::EndMarkedContent);
        }
    }

    fn face(&self, weight: Weight) -> &'static FontFace {
        match weight {
            Weight::Regular => &self.fonts.regular,
            Weight::Bold => &self.fonts.bold,
        }
    }

    /// Text as marked content of the current structure element, or as an artifact; it
    /// joins a pending run of the same element and style.
    fn text(
        &mut self,
        x: f32,
        baseline: f32,
        text: &str,
        size: f32,
        weight: Weight,
        colour: Colour,
    ) {
        let Some(text) = self.printable(text, weight) else {
            return;
        };
        let element = self.target;
        let line = (x, baseline, text);
        match self.pending.iter_mut().find(|r| {
            r.element == element && r.weight == weight && r.size == size && r.colour == colour
        }) {
            Some(run) => run.lines.push(line),
            None => self.pending.push(PendingRun {
                element,
                weight,
                size,
                colour,
                lines: vec![line],
            }),
        }
    }

    /// `text` as the face prints it (none for empty text); notes whether the whole fonts
    /// are needed.
    fn printable(&mut self, text: &str, weight: Weight) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        if let Some(full) = self.full {
            let (cut, whole) = match weight {
                Weight::Regular => (&self.fonts.regular, &full.regular),
                Weight::Bold => (&self.fonts.bold, &full.bold),
            };
            if text.chars().any(|c| !cut.has(c) && whole.has(c)) {
                self.needs_full = true;
            }
        }
        Some(self.face(weight).printable(text).into_owned())
    }

    /// The operations that show `text` at once, outside any run (none for empty text).
    fn text_run(
        &mut self,
        x: f32,
        baseline: f32,
        text: &str,
        size: f32,
        weight: Weight,
        colour: Colour,
    ) -> Option<[Op; 6]> {
        let text = self.printable(text, weight)?;
        let font = match weight {
            Weight::Regular => self.regular_id.clone(),
            Weight::Bold => self.bold_id.clone(),
        };
        Some([
            Op::StartTextSection,
            Op::SetFillColor { col: colour.pdf() },
            Op::SetFont {
                font: PdfFontHandle::External(font),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point {
                    x: Pt(x),
                    y: Pt(baseline),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text)],
            },
            Op::EndTextSection,
        ])
    }

    fn page_index(&mut self) -> usize {
        self.page_ops();
        self.pages.len() - 1
    }

    /// A new structure element in the current container (the document or a group's
    /// section); it ends an open table or list.
    fn begin(&mut self, role: Role) -> usize {
        self.open_table = None;
        self.open_list = None;
        let container = self.groups.last().map_or(0, |g| g.sect);
        self.structure.add(container, role)
    }

    /// Draws with text going to `element`.
    fn tagged(&mut self, element: usize, draw: impl FnOnce(&mut Self)) {
        let outer = self.target.replace(element);
        draw(self);
        self.target = outer;
    }

    /// A filled rectangle, as an artifact.
    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Colour) {
        let ops = self.ops();
        ops.push(artifact_start());
        ops.push(Op::SetFillColor { col: colour.pdf() });
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                mode: Some(PaintMode::Fill),
                ..Rect::from_xywh(Pt(x), Pt(y), Pt(w), Pt(h))
            },
        });
        ops.push(Op::EndMarkedContent);
    }

    fn hline(&mut self, x: f32, y: f32, w: f32, thickness: f32, colour: Colour) {
        self.rect(x, y - thickness / 2.0, w, thickness, colour);
    }

    fn left(&self) -> f32 {
        MARGIN_X + self.groups.len() as f32 * GROUP_INDENT
    }

    fn width(&self) -> f32 {
        CONTENT_W - self.groups.len() as f32 * GROUP_INDENT
    }

    /// Space left on this page below the cursor.
    fn room(&self) -> f32 {
        self.y - BODY_BOTTOM
    }

    fn new_page(&mut self) {
        // Running header and repeated group titles are artifacts, whatever is being drawn.
        self.flush();
        let target = self.target.take();
        self.close_group_bars();
        self.pages.push(Vec::new());
        self.running_header();
        self.y = CONT_TOP;
        // Carry open groups over: repeat their titles, restart their bars.
        let titles: Vec<(String, usize)> = self
            .groups
            .iter()
            .map(|g| (g.title.clone(), g.depth))
            .collect();
        let continued = match self.model.language {
            Language::De => "Fortsetzung",
            Language::En => "continued",
        };
        for (i, (title, depth)) in titles.into_iter().enumerate() {
            let x = MARGIN_X + depth as f32 * GROUP_INDENT;
            let baseline = self.y - 10.0;
            self.text(
                x,
                baseline,
                &format!("{title} ({continued})"),
                9.0,
                Weight::Bold,
                Colour::MUTED,
            );
            self.y -= BODY_LEADING;
            if let Some(g) = self.groups.get_mut(i) {
                g.bar_top = self.y;
            }
        }
        self.target = target;
    }

    /// Makes room for `height`, starting a new page if needed.
    fn ensure(&mut self, height: f32) {
        if height > self.room() {
            self.new_page();
        }
    }

    fn close_group_bars(&mut self) {
        let bars: Vec<(f32, f32)> = self
            .groups
            .iter()
            .map(|g| (MARGIN_X + g.depth as f32 * GROUP_INDENT, g.bar_top))
            .collect();
        let bottom = self.y;
        for (x, top) in bars {
            if top - bottom > 1.0 {
                self.rect(
                    x + 1.0,
                    bottom + 2.0,
                    1.6,
                    top - bottom - 2.0,
                    self.accent.tint(0.55),
                );
            }
        }
    }

    fn paragraph(&mut self, text: &str, size: f32, leading: f32, weight: Weight, colour: Colour) {
        let lines = wrap(self.face(weight), text, size, self.width());
        for line in lines {
            self.ensure(leading);
            let baseline = self.y - leading + (leading - size) / 2.0 + 1.5;
            let x = self.left();
            self.text(x, baseline, &line, size, weight, colour);
            self.y -= leading;
        }
    }

    fn heading(&mut self, text: &str) {
        let size = 12.5;
        // Keep the heading with at least two rows of what follows.
        self.ensure(8.0 * MM + 3.0 * BODY_LEADING);
        self.y -= 5.0 * MM;
        let lines = wrap(&self.fonts.bold, text, size, self.width());
        let heading = self.begin(Role::Heading(2));
        self.tagged(heading, |c| {
            for line in lines {
                let baseline = c.y - size;
                let x = c.left();
                c.text(x, baseline, &line, size, Weight::Bold, c.accent);
                c.y -= size + 4.0;
            }
        });
        let (x, w) = (self.left(), self.width());
        self.hline(x, self.y, w, 0.8, self.accent);
        self.y -= 2.5 * MM;
    }

    fn key_value(&mut self, label: &str, value: &str) {
        let size = BODY_SIZE;
        let gap = 4.0 * MM;
        let label_w = (self.width() * 0.38).min(62.0 * MM);
        let value_w = self.width() - label_w - gap;
        let label_lines = wrap(&self.fonts.regular, label, size, label_w);
        let value_lines = wrap(&self.fonts.regular, value, size, value_w);
        let rows = label_lines.len().max(value_lines.len());
        let pad = 2.5;
        let height = rows as f32 * BODY_LEADING + 2.0 * pad;
        // Short rows move whole to the next page; longer ones continue line by line.
        if height <= CONT_TOP - BODY_BOTTOM - 6.0 * BODY_LEADING {
            self.ensure(height);
        }
        let table = match self.open_table {
            Some(table) => table,
            None => {
                let table = self.begin(Role::Table);
                self.open_table = Some(table);
                table
            }
        };
        let row = self.structure.add(table, Role::Tr);
        let header = self.structure.add(row, Role::Th);
        let cell = self.structure.add(row, Role::Td);
        self.y -= pad;
        for i in 0..rows {
            self.ensure(BODY_LEADING + pad);
            let baseline = self.y - BODY_LEADING + 3.5;
            let x = self.left();
            if let Some(l) = label_lines.get(i) {
                self.tagged(header, |c| {
                    c.text(x, baseline, l, size, Weight::Regular, Colour::MUTED)
                });
            }
            if let Some(v) = value_lines.get(i) {
                self.tagged(cell, |c| {
                    c.text(
                        x + label_w + gap,
                        baseline,
                        v,
                        size,
                        Weight::Regular,
                        Colour::TEXT,
                    )
                });
            }
            self.y -= BODY_LEADING;
        }
        self.y -= pad;
        let (x, w) = (self.left(), self.width());
        self.hline(x, self.y, w, 0.4, Colour::HAIRLINE);
    }

    fn note(&mut self, text: &str) {
        let size = BODY_SIZE;
        let pad = 3.0 * MM;
        let inner_w = self.width() - 2.0 * pad - 2.0;
        let lines = wrap(&self.fonts.regular, text, size, inner_w);
        let height = lines.len() as f32 * BODY_LEADING + 2.0 * pad;
        if height <= CONT_TOP - BODY_BOTTOM {
            self.ensure(height);
        }
        let paragraph = self.begin(Role::P);
        let mut open = self.open_box();
        self.y -= pad;
        for line in lines {
            if BODY_LEADING + pad > self.room() {
                self.close_box(&open, pad);
                self.new_page();
                open = self.open_box();
                self.y -= pad;
            }
            let baseline = self.y - BODY_LEADING + 3.5;
            let x = self.left() + pad + 2.0;
            self.tagged(paragraph, |c| {
                c.text(x, baseline, &line, size, Weight::Regular, Colour::TEXT)
            });
            self.y -= BODY_LEADING;
        }
        self.close_box(&open, pad);
        self.y -= 2.0 * MM;
    }

    fn open_box(&mut self) -> OpenBox {
        let insert_at = self.ops().len();
        OpenBox {
            insert_at,
            top: self.y,
            left: self.left(),
        }
    }

    /// Inserts the note background under the text already placed.
    fn close_box(&mut self, open: &OpenBox, pad: f32) {
        self.y -= pad;
        let (top, bottom, left) = (open.top, self.y, open.left);
        let w = MARGIN_X + CONTENT_W - left;
        let tint = self.accent.tint(0.9);
        let accent = self.accent;
        let background = [
            artifact_start(),
            Op::SetFillColor { col: tint.pdf() },
            Op::DrawRectangle {
                rectangle: Rect {
                    mode: Some(PaintMode::Fill),
                    ..Rect::from_xywh(Pt(left), Pt(bottom), Pt(w), Pt(top - bottom))
                },
            },
            Op::SetFillColor { col: accent.pdf() },
            Op::DrawRectangle {
                rectangle: Rect {
                    mode: Some(PaintMode::Fill),
                    ..Rect::from_xywh(Pt(left), Pt(bottom), Pt(2.0), Pt(top - bottom))
                },
            },
            Op::EndMarkedContent,
        ];
        let ops = self.ops();
        let at = open.insert_at.min(ops.len());
        ops.splice(at..at, background);
    }

    fn group_start(&mut self, title: &str) {
        self.ensure(3.0 * BODY_LEADING);
        self.y -= 1.5 * MM;
        let lines = wrap(&self.fonts.bold, title, BODY_SIZE, self.width());
        let depth = self.groups.len();
        // A group is a section with a heading one level below the section headings.
        let sect = self.begin(Role::Sect);
        let level = u8::try_from(depth + 3).unwrap_or(6).min(6);
        let heading = self.structure.add(sect, Role::Heading(level));
        self.tagged(heading, |c| {
            for line in lines {
                let baseline = c.y - BODY_LEADING + 3.5;
                let x = c.left();
                c.text(x, baseline, &line, BODY_SIZE, Weight::Bold, Colour::TEXT);
                c.y -= BODY_LEADING;
            }
        });
        self.groups.push(OpenGroup {
            title: title.to_string(),
            bar_top: self.y,
            depth,
            sect,
        });
    }

    fn group_end(&mut self) {
        self.open_table = None;
        self.open_list = None;
        if let Some(group) = self.groups.pop() {
            let x = MARGIN_X + group.depth as f32 * GROUP_INDENT;
            let bottom = self.y;
            if group.bar_top - bottom > 1.0 {
                self.rect(
                    x + 1.0,
                    bottom + 2.0,
                    1.6,
                    group.bar_top - bottom - 2.0,
                    self.accent.tint(0.55),
                );
            }
        }
        self.y -= 1.5 * MM;
    }

    fn list_item(&mut self, text: &str) {
        let indent = 5.0 * MM;
        let lines = wrap(&self.fonts.regular, text, BODY_SIZE, self.width() - indent);
        let list = match self.open_list {
            Some(list) => list,
            None => {
                let list = self.begin(Role::L);
                self.open_list = Some(list);
                list
            }
        };
        let item = self.structure.add(list, Role::Li);
        let label = self.structure.add(item, Role::Lbl);
        let body = self.structure.add(item, Role::LBody);
        for (i, line) in lines.iter().enumerate() {
            self.ensure(BODY_LEADING);
            let baseline = self.y - BODY_LEADING + 3.5;
            let x = self.left();
            if i == 0 {
                self.tagged(label, |c| {
                    c.text(x + 1.0, baseline, "•", BODY_SIZE, Weight::Regular, c.accent)
                });
            }
            self.tagged(body, |c| {
                c.text(
                    x + indent,
                    baseline,
                    line,
                    BODY_SIZE,
                    Weight::Regular,
                    Colour::TEXT,
                )
            });
            self.y -= BODY_LEADING;
        }
    }
}

/// A composed receipt: the printpdf document (unsigned, no attachments), its structure
/// tree, and whether it uses the Latin cut of the fonts, which printpdf embeds whole and
/// [`crate::fonts::cut_latin_programs`] then cuts to the glyphs used.
pub struct Composed {
    pub document: PdfDocument,
    pub structure: Structure,
    pub fixed_fonts: bool,
}

/// Lays out `blocks` for `model`: with the Latin cut of the fonts, or, if the receipt prints
/// a character only the whole fonts have, with those (subset per receipt).
pub fn compose(model: &ReceiptModel, blocks: &[Block]) -> Result<Composed, ReceiptError> {
    let fonts = fonts()?;
    let (document, structure, needs_full) =
        compose_with(model, blocks, &fonts.latin, Some(&fonts.full))?;
    if !needs_full {
        return Ok(Composed {
            document,
            structure,
            fixed_fonts: true,
        });
    }
    let (document, structure, _) = compose_with(model, blocks, &fonts.full, None)?;
    Ok(Composed {
        document,
        structure,
        fixed_fonts: false,
    })
}

fn compose_with(
    model: &ReceiptModel,
    blocks: &[Block],
    fonts: &'static FontSet,
    full: Option<&'static FontSet>,
) -> Result<(PdfDocument, Structure, bool), ReceiptError> {
    let accent = Colour::parse(&model.tenant.colour_hex)?;
    let mut doc = PdfDocument::new(&document_title(model));
    let regular_id = doc.add_font(&fonts.regular.parsed);
    let bold_id = doc.add_font(&fonts.bold.parsed);
    let mut c = Composer {
        fonts,
        full,
        needs_full: false,
        regular_id,
        bold_id,
        accent,
        model,
        pages: vec![Vec::new()],
        y: PAGE_H - 20.0 * MM,
        groups: Vec::new(),
        structure: Structure::new(),
        target: None,
        open_table: None,
        open_list: None,
        pending: Vec::new(),
    };
    for block in blocks {
        match block {
            Block::Letterhead => {
                if c.pages.len() == 1 && c.pages[0].is_empty() {
                    c.letterhead();
                }
            }
            Block::Title(t) => {
                c.ensure(3.0 * BODY_LEADING);
                let lines = wrap(&fonts.bold, t, 19.0, c.width());
                let heading = c.begin(Role::Heading(1));
                c.tagged(heading, |c| {
                    for line in lines {
                        let baseline = c.y - 19.0;
                        let x = c.left();
                        c.text(x, baseline, &line, 19.0, Weight::Bold, Colour::TEXT);
                        c.y -= 25.0;
                    }
                });
                c.y -= 1.0 * MM;
            }
            Block::Heading(t) => c.heading(t),
            Block::Subheading(t) => {
                c.ensure(3.0 * BODY_LEADING);
                c.y -= 2.0 * MM;
                let heading = c.begin(Role::Heading(3));
                c.tagged(heading, |c| {
                    c.paragraph(t, 11.0, 15.0, Weight::Bold, Colour::TEXT)
                });
            }
            Block::Paragraph(t) => {
                let paragraph = c.begin(Role::P);
                c.tagged(paragraph, |c| {
                    c.paragraph(t, BODY_SIZE, BODY_LEADING, Weight::Regular, Colour::TEXT)
                });
            }
            Block::Small(t) => {
                c.y -= 1.0 * MM;
                let paragraph = c.begin(Role::P);
                c.tagged(paragraph, |c| {
                    c.paragraph(t, 8.5, 11.5, Weight::Regular, Colour::MUTED)
                });
            }
            Block::Note(t) => c.note(t),
            Block::KeyValue(l, v) => c.key_value(l, v),
            Block::GroupStart(t) => c.group_start(t),
            Block::GroupEnd => c.group_end(),
            Block::ListItem(t) => c.list_item(t),
            Block::Space(mm) => {
                let h = mm * MM;
                if h >= c.room() {
                    c.new_page();
                } else {
                    c.y -= h;
                }
            }
            Block::Rule => {
                c.ensure(3.0 * MM);
                c.y -= 1.5 * MM;
                let (x, w) = (c.left(), c.width());
                c.hline(x, c.y, w, 0.6, Colour::HAIRLINE.tint(-0.3));
                c.y -= 1.5 * MM;
            }
            Block::PageBreak => c.new_page(),
        }
    }
    c.close_group_bars();
    c.flush();
    let total = c.pages.len();
    for page in 0..total {
        // Footers go on each page's own op list.
        let ops = std::mem::take(&mut c.pages[page]);
        c.pages.push(ops);
        c.footer(page + 1, total);
        c.flush();
        let ops = c.pages.pop().unwrap_or_default();
        c.pages[page] = ops;
    }
    let pages = c
        .pages
        .into_iter()
        .map(|ops| PdfPage::new(Mm(210.0), Mm(297.0), ops))
        .collect();
    doc.with_pages(pages);
    let info = &mut doc.metadata.info;
    info.author = model.tenant.name.clone();
    info.creator = "Lotse".into();
    info.producer = "Lotse (printpdf)".into();
    info.subject = model.service_title.clone();
    let created = printpdf::OffsetDateTime::from_unix_timestamp(model.received_at.unix_timestamp())
        .map_err(|e| ReceiptError::Pdf(e.to_string()))?;
    info.creation_date = created;
    info.modification_date = created;
    info.metadata_date = created;
    Ok((doc, c.structure, c.needs_full))
}

/// "Eingangsbestätigung HEI-2026-000123 – Hundesteuer".
pub fn document_title(model: &ReceiptModel) -> String {
    let title = match model.language {
        Language::De => "Eingangsbestätigung",
        Language::En => "Confirmation of receipt",
    };
    format!("{title} {} – {}", model.reference, model.service_title)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fonts::{REGULAR_TTF, latin_repertoire};

    #[test]
    fn the_latin_cut_measures_like_the_whole_font() {
        let fonts = fonts().unwrap();
        for (cut, whole) in [
            (&fonts.latin.regular, &fonts.full.regular),
            (&fonts.latin.bold, &fonts.full.bold),
        ] {
            let mut n = 0;
            for c in latin_repertoire().filter(|c| whole.has(*c)) {
                assert!(cut.has(c), "{c:?} is missing in the Latin cut");
                assert_eq!(cut.advance(c), whole.advance(c), "advance of {c:?}");
                n += 1;
            }
            assert!(n > 300, "{n}");
            assert!(!cut.has('Ж') && whole.has('Ж'));
        }
        // The cut is much smaller than the whole font.
        assert!(
            fonts
                .programs
                .iter()
                .all(|p| p.whole.len() < REGULAR_TTF.len() / 4)
        );
    }

    #[test]
    fn wrap_keeps_lines_within_width_and_breaks_long_words() {
        let fonts = &fonts().unwrap().full;
        let text =
            "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenberechnungsgrundlage ist lang";
        let lines = wrap(&fonts.regular, text, 10.0, 100.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(fonts.regular.width(line, 10.0) <= 100.0 + 0.01, "{line}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn characters_the_font_lacks_become_visible_replacements() {
        let fonts = &fonts().unwrap().full;
        assert_eq!(fonts.regular.printable("Jörg ẞ € „“ –"), "Jörg ẞ € „“ –");
        assert_eq!(fonts.regular.printable("Hund 🐕"), "Hund \u{FFFD}");
    }

    #[test]
    fn wrap_honours_explicit_line_breaks() {
        let fonts = &fonts().unwrap().full;
        assert_eq!(wrap(&fonts.regular, "a\nb", 10.0, 400.0), vec!["a", "b"]);
    }

    #[test]
    fn colour_must_be_hex() {
        assert!(Colour::parse("#1f5fa8").is_ok());
        assert!(Colour::parse("blue").is_err());
        assert!(Colour::parse("#1f5fa").is_err());
    }
}
