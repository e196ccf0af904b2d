//! The page chrome of a receipt: the letterhead with the tenant's shield on the first page, the
//! running header of the following pages and the "Seite N von M" footer, all as artifacts or
//! the figure of the emblem.

use super::*;

impl Composer<'_> {
    pub(super) fn running_header(&mut self) {
        self.rect(0.0, PAGE_H - 4.0 * MM, PAGE_W, 4.0 * MM, self.accent);
        let title = match self.model.language {
            Language::De => "Eingangsbestätigung",
            Language::En => "Confirmation of receipt",
        };
        let left = format!("{} · {}", self.model.tenant.name, title);
        let baseline = PAGE_H - 12.0 * MM;
        self.text(
            MARGIN_X,
            baseline,
            &left,
            8.5,
            Weight::Regular,
            Colour::MUTED,
        );
        let reference = self.model.reference.clone();
        let w = self.fonts.regular.width(&reference, 8.5);
        self.text(
            MARGIN_X + CONTENT_W - w,
            baseline,
            &reference,
            8.5,
            Weight::Regular,
            Colour::MUTED,
        );
        self.hline(MARGIN_X, baseline - 4.0, CONTENT_W, 0.5, Colour::HAIRLINE);
    }

    pub(super) fn letterhead(&mut self) {
        let band_h = 30.0 * MM;
        let top = PAGE_H;
        self.rect(0.0, top - band_h, PAGE_W, band_h, self.accent);
        let mut text_x = MARGIN_X;
        if let Some(Logo::Initials { initials }) = self.model.tenant.logo.clone() {
            let w = 16.0 * MM;
            let h = 19.0 * MM;
            let x = MARGIN_X;
            let y = top - band_h + (band_h - h) / 2.0;
            self.shield(x, y, w, h, &initials);
            text_x = x + w + 6.0 * MM;
        }
        let name = self.model.tenant.name.clone();
        let office = self.model.tenant.office.clone();
        // Name and office take what the right-aligned address leaves free.
        let address_w = self
            .model
            .tenant
            .address_lines
            .iter()
            .take(5)
            .map(|l| self.fonts.regular.width(l, 8.5))
            .fold(0.0f32, f32::max);
        let room = (MARGIN_X + CONTENT_W - address_w - 6.0 * MM - text_x).max(40.0 * MM);
        // One line at up to 17 pt; a long name goes on two lines at 13 pt before shrinking.
        let one_line = fit_size(&self.fonts.bold, &name, 17.0, room);
        let two_lines = wrap(&self.fonts.bold, &name, 13.0, room);
        let (lines, size, office_y) = if one_line >= 13.0 || two_lines.len() > 2 {
            (vec![name.clone()], one_line, top - 20.5 * MM)
        } else {
            (two_lines, 13.0, top - 22.5 * MM)
        };
        let mut baseline = if lines.len() == 1 {
            top - 14.5 * MM
        } else {
            top - 11.0 * MM
        };
        let sender = self.begin(Role::P);
        self.tagged(sender, |c| {
            for line in &lines {
                c.text(text_x, baseline, line, size, Weight::Bold, Colour::WHITE);
                baseline -= size + 3.0;
            }
        });
        let office_size = fit_size(&self.fonts.regular, &office, 10.0, room);
        let office_p = self.begin(Role::P);
        self.tagged(office_p, |c| {
            c.text(
                text_x,
                office_y,
                &office,
                office_size,
                Weight::Regular,
                Colour::WHITE,
            )
        });
        let address = self.model.tenant.address_lines.clone();
        let right = MARGIN_X + CONTENT_W;
        let mut baseline = top - 10.5 * MM;
        let address_p = self.begin(Role::P);
        self.tagged(address_p, |c| {
            for line in address.iter().take(5) {
                let w = c.fonts.regular.width(line, 8.5);
                c.text(
                    right - w,
                    baseline,
                    line,
                    8.5,
                    Weight::Regular,
                    Colour::WHITE,
                );
                baseline -= 11.0;
            }
        });
        self.y = top - band_h - 12.0 * MM;
    }

    /// A simple heraldic shield in white with the initials in the tenant colour: one figure
    /// with alternative text.
    pub(super) fn shield(&mut self, x: f32, y: f32, w: f32, h: f32, initials: &str) {
        let figure = self.begin(Role::Figure);
        let letters: String = initials.chars().filter(|c| !c.is_whitespace()).collect();
        let element = &mut self.structure.elements[figure];
        element.alt = Some(match self.model.language {
            Language::De => format!(
                "Emblem: {}, Wappenschild mit „{letters}“",
                self.model.tenant.name
            ),
            Language::En => format!(
                "Emblem: {}, shield with “{letters}”",
                self.model.tenant.name
            ),
        });
        element.bbox = Some([x, y, x + w, y + h]);
        self.flush();
        let page = self.page_index();
        let mcid = self.structure.mark(figure, page);
        self.ops().push(marked_start(Role::Figure, mcid));
        let p = |px: f32, py: f32, bezier: bool| LinePoint {
            p: Point {
                x: Pt(px),
                y: Pt(py),
            },
            bezier,
        };
        let shoulder = y + h * 0.42;
        let points = vec![
            p(x, y + h, false),
            p(x + w, y + h, false),
            p(x + w, shoulder, false),
            p(x + w, y + h * 0.18, true),
            p(x + w * 0.62, y + h * 0.04, true),
            p(x + w / 2.0, y, false),
            p(x + w * 0.38, y + h * 0.04, true),
            p(x, y + h * 0.18, true),
            p(x, shoulder, false),
        ];
        let ops = self.ops();
        ops.push(Op::SetFillColor {
            col: Colour::WHITE.pdf(),
        });
        ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![PolygonRing { points }],
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
        let initials: String = initials
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(3)
            .collect();
        let size = if initials.chars().count() > 2 {
            13.0
        } else {
            17.0
        };
        let tw = self.fonts.bold.width(&initials, size);
        // The initials are part of the figure, not text of their own.
        let run = self.text_run(
            x + (w - tw) / 2.0,
            y + h * 0.45,
            &initials,
            size,
            Weight::Bold,
            self.accent,
        );
        let ops = self.ops();
        ops.extend(run.into_iter().flatten());
        ops.push(Op::EndMarkedContent);
    }

    pub(super) fn footer(&mut self, page: usize, total: usize) {
        let label = match self.model.language {
            Language::De => format!("Seite {page} von {total}"),
            Language::En => format!("Page {page} of {total}"),
        };
        let baseline = 12.0 * MM;
        self.hline(MARGIN_X, baseline + 11.0, CONTENT_W, 0.5, Colour::HAIRLINE);
        let left = format!("{} · {}", self.model.tenant.name, self.model.reference);
        self.text(
            MARGIN_X,
            baseline,
            &left,
            8.0,
            Weight::Regular,
            Colour::MUTED,
        );
        let w = self.fonts.regular.width(&label, 8.0);
        self.text(
            MARGIN_X + CONTENT_W - w,
            baseline,
            &label,
            8.0,
            Weight::Regular,
            Colour::MUTED,
        );
    }
}
