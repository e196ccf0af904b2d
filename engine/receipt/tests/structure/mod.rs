//! Reads a receipt's structure tree the way assistive technology does: from
//! `/StructTreeRoot` down, in order, each element with the text of its marked content (found
//! through `/MCID` on the page and the fonts' `/ToUnicode` maps).

use std::collections::{BTreeMap, HashMap};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

/// One structure element as read: its type, the text of its own marked content
/// (lines joined by spaces) and its attributes of interest.
#[derive(Debug, Clone)]
pub struct Node {
    pub role: String,
    pub text: String,
    pub alt: Option<String>,
    pub scope: Option<String>,
}

/// Every element of the tree in reading order (depth first), and the text of marked content
/// no element claims (must be empty: all real content is tagged).
pub struct Tree {
    pub nodes: Vec<Node>,
    pub unclaimed: Vec<String>,
    pub artifacts: Vec<String>,
}

fn deref<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => doc.get_object(*id).expect("dangling reference"),
        other => other,
    }
}

fn dict<'a>(doc: &'a Document, object: &'a Object) -> &'a Dictionary {
    deref(doc, object).as_dict().expect("a dictionary")
}

fn name(object: &Object) -> String {
    String::from_utf8(object.as_name().expect("a name").to_vec()).unwrap()
}

/// A PDF text string: UTF-16BE with byte order mark, or PDFDocEncoding (ASCII here).
fn text_string(object: &Object) -> String {
    let bytes = object.as_str().expect("a string");
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}

/// The code → text map of a font's `/ToUnicode` CMap (bfchar and bfrange, two-byte codes).
fn to_unicode(doc: &Document, font: &Dictionary) -> HashMap<u16, String> {
    let stream = deref(doc, font.get(b"ToUnicode").expect("ToUnicode"))
        .as_stream()
        .unwrap();
    let content = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    let text = String::from_utf8_lossy(&content);
    let hex = |s: &str| -> Vec<u16> {
        let s = s.trim_matches(|c| c == '<' || c == '>');
        (0..s.len())
            .step_by(4)
            .map(|i| u16::from_str_radix(&s[i..i + 4], 16).unwrap())
            .collect()
    };
    let mut map = HashMap::new();
    let mut mode = "";
    for line in text.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") {
            mode = "char";
        } else if line.ends_with("beginbfrange") {
            mode = "range";
        } else if line.starts_with("end") {
            mode = "";
        } else if !line.is_empty() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match (mode, parts.as_slice()) {
                ("char", [code, dst]) => {
                    map.insert(hex(code)[0], String::from_utf16(&hex(dst)).unwrap());
                }
                ("range", [lo, hi, dst]) if dst.starts_with('<') => {
                    let (lo, hi, first) = (hex(lo)[0], hex(hi)[0], hex(dst));
                    for (i, code) in (lo..=hi).enumerate() {
                        let mut units = first.clone();
                        if let Some(last) = units.last_mut() {
                            *last += i as u16;
                        }
                        map.insert(code, String::from_utf16(&units).unwrap());
                    }
                }
                _ => {}
            }
        }
    }
    map
}

/// (page, MCID) → text, and the text of artifacts, from every page's content.
fn marked_text(doc: &Document) -> (BTreeMap<(ObjectId, i64), String>, Vec<String>) {
    let mut marked = BTreeMap::new();
    let mut artifacts = Vec::new();
    for (_, page) in doc.get_pages() {
        let page_dict = doc.get_dictionary(page).unwrap();
        let resources = dict(doc, page_dict.get(b"Resources").unwrap());
        let fonts = dict(doc, resources.get(b"Font").unwrap());
        let maps: HashMap<Vec<u8>, HashMap<u16, String>> = fonts
            .iter()
            .map(|(key, font)| (key.clone(), to_unicode(doc, dict(doc, font))))
            .collect();
        let content = Content::decode(&doc.get_page_content(page)).unwrap();
        // The open marked-content sequences: Some(mcid) for tagged, None for artifacts or
        // sequences without an MCID.
        let mut open: Vec<(Option<i64>, bool)> = Vec::new();
        let mut font = Vec::new();
        let mut line_open = false;
        for op in &content.operations {
            match op.operator.as_str() {
                "BDC" => {
                    let mcid = op
                        .operands
                        .get(1)
                        .and_then(|p| p.as_dict().ok())
                        .and_then(|d| d.get(b"MCID").ok())
                        .and_then(|m| m.as_i64().ok());
                    let artifact = op.operands[0].as_name().unwrap() == b"Artifact";
                    open.push((mcid, artifact));
                }
                "BMC" => open.push((None, op.operands[0].as_name().unwrap() == b"Artifact")),
                "EMC" => {
                    open.pop().expect("EMC without BDC/BMC");
                }
                "Tf" => font = op.operands[0].as_name().unwrap().to_vec(),
                "Td" | "TD" | "Tm" | "T*" => line_open = false,
                "Tj" | "TJ" => {
                    let strings: Vec<&[u8]> = match &op.operands[0] {
                        Object::String(s, _) => vec![s.as_slice()],
                        Object::Array(items) => {
                            items.iter().filter_map(|i| i.as_str().ok()).collect()
                        }
                        _ => Vec::new(),
                    };
                    let map = &maps[&font];
                    let text: String = strings
                        .iter()
                        .flat_map(|s| s.chunks(2))
                        .map(|c| map[&u16::from_be_bytes([c[0], c[1]])].clone())
                        .collect();
                    let (mcid, artifact) = *open
                        .iter()
                        .rev()
                        .find(|(m, a)| m.is_some() || *a)
                        .expect("text outside marked content");
                    let target = if artifact {
                        artifacts.push(String::new());
                        artifacts.last_mut().unwrap()
                    } else {
                        marked
                            .entry((page, mcid.expect("an MCID")))
                            .or_insert_with(String::new)
                    };
                    // A new line starts a new word.
                    if !line_open && !target.is_empty() {
                        target.push(' ');
                    }
                    target.push_str(&text);
                    line_open = true;
                }
                _ => {}
            }
        }
        assert!(open.is_empty(), "unbalanced marked content on a page");
    }
    (marked, artifacts)
}

/// Reads the structure tree of `pdf`, checking the parent tree on the way: every MCID an
/// element claims points back to that element.
pub fn read(pdf: &[u8]) -> Tree {
    let doc = Document::load_mem(pdf).unwrap();
    let catalog = doc.catalog().unwrap();
    let mark_info = dict(&doc, catalog.get(b"MarkInfo").expect("MarkInfo"));
    assert!(mark_info.get(b"Marked").unwrap().as_bool().unwrap());
    let root = dict(
        &doc,
        catalog.get(b"StructTreeRoot").expect("StructTreeRoot"),
    );
    let parent_tree = dict(&doc, root.get(b"ParentTree").unwrap());
    let nums = deref(&doc, parent_tree.get(b"Nums").unwrap())
        .as_array()
        .unwrap();
    let mut parents: HashMap<i64, Vec<Object>> = HashMap::new();
    for pair in nums.chunks(2) {
        let refs = deref(&doc, &pair[1]).as_array().unwrap().clone();
        parents.insert(pair[0].as_i64().unwrap(), refs);
    }
    let (mut marked, artifacts) = marked_text(&doc);
    let mut nodes = Vec::new();
    let mut stack: Vec<ObjectId> = Vec::new();
    // A single kid stays as it is (a reference keeps the element's id); an array, direct or
    // not, gives its items.
    let kids = |object: &Object| -> Vec<Object> {
        match deref(&doc, object) {
            Object::Array(items) => items.clone(),
            _ => vec![object.clone()],
        }
    };
    let top = root.get(b"K").unwrap();
    for kid in kids(top).into_iter().rev() {
        stack.push(kid.as_reference().unwrap());
    }
    while let Some(id) = stack.pop() {
        let element = doc.get_dictionary(id).unwrap();
        let page = element.get(b"Pg").ok().map(|p| p.as_reference().unwrap());
        let mut node = Node {
            role: name(element.get(b"S").unwrap()),
            text: String::new(),
            alt: element.get(b"Alt").ok().map(text_string),
            scope: element
                .get(b"A")
                .ok()
                .and_then(|a| deref(&doc, a).as_dict().ok())
                .and_then(|a| a.get(b"Scope").ok())
                .map(name),
        };
        let mut children = Vec::new();
        if let Ok(k) = element.get(b"K") {
            for kid in kids(k) {
                let (on_page, mcid) = match &kid {
                    Object::Reference(child) => {
                        children.push(*child);
                        continue;
                    }
                    Object::Integer(mcid) => (page.expect("Pg for an MCID"), *mcid),
                    Object::Dictionary(mcr) => (
                        mcr.get(b"Pg").unwrap().as_reference().unwrap(),
                        mcr.get(b"MCID").unwrap().as_i64().unwrap(),
                    ),
                    other => panic!("unexpected kid {other:?}"),
                };
                let page_dict = doc.get_dictionary(on_page).unwrap();
                let key = page_dict.get(b"StructParents").unwrap().as_i64().unwrap();
                let back = parents[&key][mcid as usize].as_reference().unwrap();
                assert_eq!(back, id, "the parent tree points MCID {mcid} elsewhere");
                let text = marked.remove(&(on_page, mcid)).unwrap_or_default();
                if !node.text.is_empty() && !text.is_empty() {
                    node.text.push(' ');
                }
                node.text.push_str(&text);
            }
        }
        for child in children.into_iter().rev() {
            stack.push(child);
        }
        nodes.push(node);
    }
    Tree {
        nodes,
        unclaimed: marked.into_values().collect(),
        artifacts,
    }
}
