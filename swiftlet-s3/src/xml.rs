//! XML in and out: a small writer for S3's response documents and a parser that turns a
//! request body (bounded in size) into a tree of elements.

use crate::error::S3Error;
use quick_xml::events::Event;
use quick_xml::Reader;

pub(crate) const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds one document; text is escaped, tags are trusted constants.
pub(crate) struct XmlWriter {
    out: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        XmlWriter { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
    }

    /// The document element, in S3's namespace.
    pub(crate) fn root(&mut self, tag: &str) {
        self.out.push_str(&format!("<{tag} xmlns=\"{S3_NS}\">"));
    }

    pub(crate) fn open(&mut self, tag: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// An element with attributes written verbatim (they are constants).
    pub(crate) fn open_with(&mut self, tag: &str, attrs: &str) {
        self.out.push_str(&format!("<{tag} {attrs}>"));
    }

    pub(crate) fn close(&mut self, tag: &str) {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    pub(crate) fn elem(&mut self, tag: &str, text: &str) {
        self.open(tag);
        self.out.push_str(&escape(text));
        self.close(tag);
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Escapes text for element content (quotes stay as they are, as S3 writes them: clients
/// match messages such as "The provided 'x-amz-content-sha256' header ..." literally).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Control characters cannot appear in XML 1.0 text: write them as references
            // the way S3 does for keys, so listings of such keys stay well-formed.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// One parsed element: its local name (namespace dropped), its text and its children.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 200_000;

/// Parses a request body into its document element; anything malformed is `MalformedXML`.
pub(crate) fn parse(body: &[u8]) -> Result<Element, S3Error> {
    parse_with(body, |_, _| Ok(()))
}

/// [`parse`], calling `on_element(depth, name)` as each element starts (the document
/// element is at depth 0), so a document breaking a limit is refused there and then.
pub(crate) fn parse_with(
    body: &[u8],
    mut on_element: impl FnMut(usize, &str) -> Result<(), S3Error>,
) -> Result<Element, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| S3Error::MalformedXML)?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        match reader.read_event().map_err(|_| S3Error::MalformedXML)? {
            Event::Start(start) => {
                count += 1;
                if root.is_some() || stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(S3Error::MalformedXML);
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                on_element(stack.len(), &name)?;
                stack.push(Element { name, ..Element::default() });
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(S3Error::MalformedXML);
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                on_element(stack.len(), &name)?;
                let el = Element { name, ..Element::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err(S3Error::MalformedXML),
                }
            }
            Event::End(end) => {
                let el = stack.pop().ok_or(S3Error::MalformedXML)?;
                if el.name.as_bytes() != end.local_name().as_ref() {
                    return Err(S3Error::MalformedXML);
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let t = t.unescape().map_err(|_| S3Error::MalformedXML)?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&t),
                    None if t.trim().is_empty() => {}
                    None => return Err(S3Error::MalformedXML),
                }
            }
            Event::CData(c) => {
                let el = stack.last_mut().ok_or(S3Error::MalformedXML)?;
                el.text.push_str(std::str::from_utf8(&c).map_err(|_| S3Error::MalformedXML)?);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(S3Error::MalformedXML);
    }
    root.ok_or(S3Error::MalformedXML)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_namespace_and_entities() {
        let doc = br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Quiet>true</Quiet><Object><Key> a&amp;b </Key></Object><Object><Key>c</Key><VersionId/></Object></Delete>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Delete");
        assert_eq!(root.child_text("Quiet"), Some("true"));
        let keys: Vec<_> = root.children("Object").filter_map(|o| o.child_text("Key")).collect();
        assert_eq!(keys, [" a&b ", "c"]);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [&b"<a><b></a>"[..], b"<a>", b"", b"text", b"<a/><b/>", b"<a></a><b></b>", b"\xff\xfe"] {
            assert!(matches!(parse(bad), Err(S3Error::MalformedXML)), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn writes_escaped() {
        let mut w = XmlWriter::new();
        w.root("R");
        w.elem("Key", "a<b>&\"c\u{1}");
        w.close("R");
        let s = w.finish();
        assert!(s.contains("<Key>a&lt;b&gt;&amp;\"c&#x1;</Key>"), "{s}");
        assert_eq!(parse(s.as_bytes()).unwrap().child_text("Key"), Some("a<b>&\"c\u{1}"));
    }
}
