//! The receipt's logical structure, for screen readers and reflow (tagged PDF, ISO 32000-1
//! 14.7–14.8): the composer records which marked content (`/MCID` on a page) belongs to
//! which structure element while it lays out, and [`Structure::write`] turns that into a
//! `/StructTreeRoot` with its `/ParentTree`, `/StructParents` on every page and
//! `/MarkInfo` in the catalog. The tree's order is the reading order.

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::error::ReceiptError;
use super::writer::{write_integer, write_object};

/// Standard structure types (ISO 32000-1 14.8.4); no role map is needed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Role {
    Document,
    /// A heading of level 1–6.
    Heading(u8),
    P,
    Sect,
    Table,
    Tr,
    /// A row header (the label of a label/value row).
    Th,
    Td,
    L,
    Li,
    Lbl,
    LBody,
    Figure,
}

impl Role {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Document => "Document",
            Role::Heading(1) => "H1",
            Role::Heading(2) => "H2",
            Role::Heading(3) => "H3",
            Role::Heading(4) => "H4",
            Role::Heading(5) => "H5",
            Role::Heading(_) => "H6",
            Role::P => "P",
            Role::Sect => "Sect",
            Role::Table => "Table",
            Role::Tr => "TR",
            Role::Th => "TH",
            Role::Td => "TD",
            Role::L => "L",
            Role::Li => "LI",
            Role::Lbl => "Lbl",
            Role::LBody => "LBody",
            Role::Figure => "Figure",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kid {
    Element(usize),
    /// Marked content `/MCID mcid` on page `page` (0-based).
    Content {
        page: usize,
        mcid: i64,
    },
}

#[derive(Debug)]
pub(crate) struct Element {
    pub(crate) role: Role,
    parent: usize,
    pub(crate) kids: Vec<Kid>,
    /// Alternative text (the emblem).
    pub(crate) alt: Option<String>,
    /// Bounding box in points, for a figure.
    pub(crate) bbox: Option<[f32; 4]>,
}

/// The structure tree being recorded: element 0 is the `Document`.
#[derive(Debug)]
pub(crate) struct Structure {
    pub(crate) elements: Vec<Element>,
    /// How many MCIDs each page has handed out.
    mcids: Vec<i64>,
}

impl Structure {
    pub(crate) fn new() -> Self {
        Structure {
            elements: vec![Element {
                role: Role::Document,
                parent: 0,
                kids: Vec::new(),
                alt: None,
                bbox: None,
            }],
            mcids: Vec::new(),
        }
    }

    /// Appends a new element as the last child of `parent`.
    pub(crate) fn add(&mut self, parent: usize, role: Role) -> usize {
        let id = self.elements.len();
        self.elements.push(Element {
            role,
            parent,
            kids: Vec::new(),
            alt: None,
            bbox: None,
        });
        self.elements[parent].kids.push(Kid::Element(id));
        id
    }

    /// A new marked-content id on `page` for content of `element`.
    pub(crate) fn mark(&mut self, element: usize, page: usize) -> i64 {
        if self.mcids.len() <= page {
            self.mcids.resize(page + 1, 0);
        }
        let mcid = self.mcids[page];
        self.mcids[page] += 1;
        self.elements[element]
            .kids
            .push(Kid::Content { page, mcid });
        mcid
    }

    /// Adds the tree to `doc`, whose pages are the composed pages in order: `/StructParents`
    /// and `/Tabs` on the pages, `/StructTreeRoot` and `/MarkInfo` in the catalog. The tree's
    /// own objects come back serialised, for the writer's object streams: there are many of
    /// them (three per label/value row), and building each as a lopdf dictionary cost more
    /// than writing it.
    pub(crate) fn write(
        &self,
        doc: &mut Document,
    ) -> Result<Vec<(ObjectId, Vec<u8>)>, ReceiptError> {
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.len() < self.mcids.len() {
            return Err(ReceiptError::Pdf(
                "structure tree refers to a page the document lacks".into(),
            ));
        }
        let root = doc.new_object_id();
        let ids: Vec<ObjectId> = self.elements.iter().map(|_| doc.new_object_id()).collect();
        let mut parents: Vec<Vec<Option<ObjectId>>> = (0..pages.len())
            .map(|p| vec![None; self.mcids.get(p).map_or(0, |&n| n as usize)])
            .collect();
        let mut objects = Vec::with_capacity(self.elements.len() + 1);
        for (i, element) in self.elements.iter().enumerate() {
            let mut out = Vec::with_capacity(64);
            out.extend_from_slice(b"<</S/");
            out.extend_from_slice(element.role.name().as_bytes());
            out.extend_from_slice(b"/P ");
            reference(&mut out, if i == 0 { root } else { ids[element.parent] });
            let first_page = element.kids.iter().find_map(|k| match k {
                Kid::Content { page, .. } => Some(*page),
                Kid::Element(_) => None,
            });
            if let Some(page) = first_page {
                out.extend_from_slice(b"/Pg ");
                reference(&mut out, pages[page]);
            }
            if !element.kids.is_empty() {
                out.extend_from_slice(if element.kids.len() == 1 {
                    b"/K "
                } else {
                    b"/K["
                });
                for (k, kid) in element.kids.iter().enumerate() {
                    if k > 0 {
                        out.push(b' ');
                    }
                    match *kid {
                        Kid::Element(j) => reference(&mut out, ids[j]),
                        Kid::Content { page, mcid } => {
                            if let Some(slot) = parents[page].get_mut(mcid as usize) {
                                *slot = Some(ids[i]);
                            }
                            if Some(page) == first_page {
                                integer(&mut out, mcid);
                            } else {
                                out.extend_from_slice(b"<</Type/MCR/Pg ");
                                reference(&mut out, pages[page]);
                                out.extend_from_slice(b"/MCID ");
                                integer(&mut out, mcid);
                                out.extend_from_slice(b">>");
                            }
                        }
                    }
                }
                if element.kids.len() > 1 {
                    out.push(b']');
                }
            }
            if let Some(alt) = &element.alt {
                out.extend_from_slice(b"/Alt");
                write_object(&mut out, &super::pdf::text_string(alt));
            }
            if element.role == Role::Th {
                out.extend_from_slice(b"/A<</O/Table/Scope/Row>>");
            }
            if let Some(bbox) = element.bbox {
                out.extend_from_slice(b"/A<</O/Layout/BBox[");
                for (k, v) in bbox.iter().enumerate() {
                    if k > 0 {
                        out.push(b' ');
                    }
                    integer(&mut out, v.round() as i64);
                }
                out.extend_from_slice(b"]>>");
            }
            out.extend_from_slice(b">>");
            objects.push((ids[i], out));
        }
        let mut out = Vec::with_capacity(128 + 8 * self.elements.len());
        out.extend_from_slice(b"<</Type/StructTreeRoot/K ");
        reference(&mut out, ids[0]);
        out.extend_from_slice(b"/ParentTree<</Nums[");
        for (p, refs) in parents.iter().enumerate() {
            integer(&mut out, p as i64);
            out.push(b'[');
            for (k, r) in refs.iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                match r {
                    Some(id) => reference(&mut out, *id),
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.extend_from_slice(b"] ");
        }
        out.extend_from_slice(b"]>>/ParentTreeNextKey ");
        integer(&mut out, pages.len() as i64);
        out.extend_from_slice(b">>");
        objects.push((root, out));

        for (p, page) in pages.iter().enumerate() {
            let dict = doc
                .get_dictionary_mut(*page)
                .map_err(|e| ReceiptError::Pdf(e.to_string()))?;
            dict.set("StructParents", Object::Integer(p as i64));
            // Tab order follows the structure (the signature field on page 1).
            dict.set("Tabs", Object::Name(b"S".to_vec()));
        }
        let catalog = doc
            .catalog_mut()
            .map_err(|e| ReceiptError::Pdf(e.to_string()))?;
        catalog.set("StructTreeRoot", Object::Reference(root));
        let mut mark_info = Dictionary::new();
        mark_info.set("Marked", Object::Boolean(true));
        catalog.set("MarkInfo", Object::Dictionary(mark_info));
        Ok(objects)
    }
}

fn reference(out: &mut Vec<u8>, id: ObjectId) {
    write_integer(out, i64::from(id.0));
    out.push(b' ');
    write_integer(out, i64::from(id.1));
    out.extend_from_slice(b" R");
}

fn integer(out: &mut Vec<u8>, value: i64) {
    write_integer(out, value);
}
