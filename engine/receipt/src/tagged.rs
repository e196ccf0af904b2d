//! The receipt's logical structure, for screen readers and reflow (tagged PDF, ISO 32000-1
//! 14.7–14.8): the composer records which marked content (`/MCID` on a page) belongs to
//! which structure element while it lays out, and [`Structure::write`] turns that into a
//! `/StructTreeRoot` with its `/ParentTree`, `/StructParents` on every page and
//! `/MarkInfo` in the catalog. The tree's order is the reading order.

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::error::ReceiptError;

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

    /// Writes the tree into `doc`, whose pages are the composed pages in order.
    pub(crate) fn write(&self, doc: &mut Document) -> Result<(), ReceiptError> {
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.len() < self.mcids.len() {
            return Err(ReceiptError::Pdf(
                "structure tree refers to a page the document lacks".into(),
            ));
        }
        let root = doc.new_object_id();
        let ids: Vec<ObjectId> = self.elements.iter().map(|_| doc.new_object_id()).collect();
        let mut parents: Vec<Vec<Object>> = pages
            .iter()
            .enumerate()
            .map(|(p, _)| vec![Object::Null; self.mcids.get(p).map_or(0, |&n| n as usize)])
            .collect();
        for (i, element) in self.elements.iter().enumerate() {
            let mut dict = Dictionary::new();
            dict.set("S", Object::Name(element.role.name().as_bytes().to_vec()));
            let parent = if i == 0 { root } else { ids[element.parent] };
            dict.set("P", Object::Reference(parent));
            let first_page = element.kids.iter().find_map(|k| match k {
                Kid::Content { page, .. } => Some(*page),
                Kid::Element(_) => None,
            });
            if let Some(page) = first_page {
                dict.set("Pg", Object::Reference(pages[page]));
            }
            let mut kids: Vec<Object> = element
                .kids
                .iter()
                .map(|kid| match *kid {
                    Kid::Element(j) => Object::Reference(ids[j]),
                    Kid::Content { page, mcid } => {
                        if let Some(slot) = parents[page].get_mut(mcid as usize) {
                            *slot = Object::Reference(ids[i]);
                        }
                        if Some(page) == first_page {
                            Object::Integer(mcid)
                        } else {
                            let mut mcr = Dictionary::new();
                            mcr.set("Type", Object::Name(b"MCR".to_vec()));
                            mcr.set("Pg", Object::Reference(pages[page]));
                            mcr.set("MCID", Object::Integer(mcid));
                            Object::Dictionary(mcr)
                        }
                    }
                })
                .collect();
            match kids.len() {
                0 => {}
                1 => dict.set("K", kids.remove(0)),
                _ => dict.set("K", Object::Array(kids)),
            }
            if let Some(alt) = &element.alt {
                dict.set("Alt", super::pdf::text_string(alt));
            }
            if element.role == Role::Th {
                let mut attributes = Dictionary::new();
                attributes.set("O", Object::Name(b"Table".to_vec()));
                attributes.set("Scope", Object::Name(b"Row".to_vec()));
                dict.set("A", Object::Dictionary(attributes));
            }
            if let Some(bbox) = element.bbox {
                let mut attributes = Dictionary::new();
                attributes.set("O", Object::Name(b"Layout".to_vec()));
                attributes.set(
                    "BBox",
                    Object::Array(bbox.iter().map(|v| Object::Real(v.round())).collect()),
                );
                dict.set("A", Object::Dictionary(attributes));
            }
            doc.objects.insert(ids[i], Object::Dictionary(dict));
        }
        let mut nums = Vec::with_capacity(2 * pages.len());
        for (p, refs) in parents.into_iter().enumerate() {
            nums.push(Object::Integer(p as i64));
            nums.push(Object::Array(refs));
        }
        let mut parent_tree = Dictionary::new();
        parent_tree.set("Nums", Object::Array(nums));
        let mut tree_root = Dictionary::new();
        tree_root.set("Type", Object::Name(b"StructTreeRoot".to_vec()));
        tree_root.set("K", Object::Reference(ids[0]));
        tree_root.set("ParentTree", Object::Dictionary(parent_tree));
        tree_root.set("ParentTreeNextKey", Object::Integer(pages.len() as i64));
        doc.objects.insert(root, Object::Dictionary(tree_root));
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
        Ok(())
    }
}
