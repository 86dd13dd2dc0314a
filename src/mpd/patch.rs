//! MPD Patch (ISO/IEC 23009-1 5th edition, `urn:mpeg:dash:schema:mpd-patch:2020`): a document
//! of RFC 5261 operations (`add`, `replace`, `remove`) that turns the manifest published at
//! `Patch@originalPublishTime` into the one published at `Patch@publishTime`, so that a client
//! of a long live timeline need not fetch the whole manifest at every refresh.
//!
//! The manifest is read into a small tree that keeps what the text says (element and attribute
//! names with their prefixes, namespace declarations, text, comments), the operations are
//! applied to it, and it is written back as text: the patched manifest is a document like any
//! other, parsed by [`super::parse_mpd`] and archived as it is.
//!
//! Selectors are the restricted XPath the standard uses: an absolute path of element steps,
//! each with predicates `[@name='value']` (joined by `and`, or one after another) or a position
//! `[n]`, optionally ending in an attribute `@name`; it must select exactly one node. Anything
//! else (`//`, axes, functions, `text()`) is refused: the patch then fails as a whole and the
//! caller fetches the full manifest.

use roxmltree::{Document, Node as XmlNode, NodeType};

use super::parse::with_document;
use super::time::{DateTime, parse_datetime};

/// The namespace of a patch document.
pub const PATCH_NAMESPACE: &str = "urn:mpeg:dash:schema:mpd-patch:2020";

/// Why a patch cannot be applied (the caller fetches the full manifest instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The manifest or the patch is not readable XML.
    #[error("{what} cannot be read: {message}")]
    Unreadable {
        /// "the manifest" or "the patch".
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The patch document is not an MPD patch, or lacks what one must have.
    #[error("not an MPD patch: {0}")]
    NotAPatch(String),
    /// The patch is for another manifest (`mpdId`) or another version of it.
    #[error("{0}")]
    Mismatch(String),
    /// An operation does not apply to the manifest.
    #[error("{op} sel=\"{sel}\": {message}")]
    Operation {
        /// `add`, `replace` or `remove`.
        op: String,
        /// Its selector.
        sel: String,
        /// What is wrong.
        message: String,
    },
}

/// A patch applied: the manifest's new text and the versions it went between.
#[derive(Debug, Clone)]
pub struct Patched {
    /// The patched manifest.
    pub text: String,
    /// `Patch@originalPublishTime`.
    pub original_publish_time: DateTime,
    /// `Patch@publishTime`: the patched manifest's `publishTime`.
    pub publish_time: DateTime,
    /// Operations applied.
    pub operations: usize,
}

/// Applies the patch document `patch` to the manifest `mpd` (its bytes as last used).
/// The patch must name the manifest's `MPD@id` and its `MPD@publishTime`.
pub fn apply_patch(mpd: &[u8], patch: &[u8]) -> Result<Patched, PatchError> {
    let mut tree =
        with_document(mpd, |doc| Ok(Tree::of(doc))).map_err(|e| PatchError::Unreadable {
            what: "the manifest",
            message: e.to_string(),
        })?;
    let unreadable = |message: String| PatchError::Unreadable {
        what: "the patch",
        message,
    };
    let text = std::str::from_utf8(patch).map_err(|e| unreadable(e.to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 5_000_000,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| unreadable(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Patch" || root.tag_name().namespace() != Some(PATCH_NAMESPACE) {
        return Err(PatchError::NotAPatch(format!(
            "its root is <{}> in namespace {}, not <Patch> in {PATCH_NAMESPACE}",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("(none)")
        )));
    }
    let required = |name: &str| {
        root.attribute(name)
            .map(str::trim)
            .ok_or_else(|| PatchError::NotAPatch(format!("Patch@{name} is missing")))
    };
    let time = |name: &str| {
        let text = required(name)?;
        parse_datetime(text).map_err(|e| PatchError::NotAPatch(format!("Patch@{name}: {e}")))
    };
    let mpd_id = required("mpdId")?;
    let original = time("originalPublishTime")?;
    let publish = time("publishTime")?;
    // The manifest the patch is for.
    let root_element = tree.root_mut();
    match root_element.attribute("id").map(str::trim) {
        Some(id) if id == mpd_id => {}
        Some(id) => {
            return Err(PatchError::Mismatch(format!(
                "the patch is for MPD@id \"{mpd_id}\", the manifest is \"{id}\""
            )));
        }
        None => {
            return Err(PatchError::Mismatch(
                "the manifest has no MPD@id, which a patch needs".into(),
            ));
        }
    }
    let current = root_element
        .attribute("publishTime")
        .and_then(|t| parse_datetime(t.trim()).ok());
    if current.map(|c| c.instant) != Some(original.instant) {
        return Err(PatchError::Mismatch(format!(
            "the patch is for publishTime {}, the manifest's is {}",
            required("originalPublishTime")?,
            root_element.attribute("publishTime").unwrap_or("(none)")
        )));
    }
    let mut operations = 0;
    for op in root.children().filter(XmlNode::is_element) {
        apply_operation(&mut tree, op)?;
        operations += 1;
    }
    // The patched manifest is the version the patch names.
    let root_element = tree.root_mut();
    let now = root_element
        .attribute("publishTime")
        .and_then(|t| parse_datetime(t.trim()).ok());
    if now.map(|n| n.instant) != Some(publish.instant) {
        root_element.set_attribute("publishTime", required("publishTime")?);
    }
    Ok(Patched {
        text: tree.to_text(),
        original_publish_time: original,
        publish_time: publish,
        operations,
    })
}

fn apply_operation(tree: &mut Tree, op: XmlNode) -> Result<(), PatchError> {
    let name = op.tag_name().name().to_string();
    let sel = op.attribute("sel").unwrap_or("").to_string();
    let fail = |message: String| PatchError::Operation {
        op: name.clone(),
        sel: sel.clone(),
        message,
    };
    if op.tag_name().namespace() != Some(PATCH_NAMESPACE) {
        return Err(fail("not an operation of the patch namespace".into()));
    }
    if op.attribute("sel").is_none() {
        return Err(fail("no sel attribute".into()));
    }
    let selector = Selector::parse(&sel).map_err(fail)?;
    let target = selector.select(tree).map_err(fail)?;
    match (name.as_str(), target) {
        ("add", Target::Element(path)) => {
            if let Some(attribute) = op.attribute("type") {
                let Some(attribute) = attribute.trim().strip_prefix('@') else {
                    return Err(fail(format!(
                        "type=\"{attribute}\" is not supported (only @name)"
                    )));
                };
                let element = tree.element_mut(&path);
                if element.attribute(attribute).is_some() {
                    return Err(fail(format!("the attribute {attribute} is already there")));
                }
                element.set_attribute(attribute, &text_of(op));
                return Ok(());
            }
            let nodes = content(op);
            match op.attribute("pos").map(str::trim) {
                None | Some("append") => {
                    let children = &mut tree.element_mut(&path).children;
                    // Before the closing tag's indentation, indented as the last child is.
                    let closing = usize::from(children.last().is_some_and(is_blank));
                    let at = children.len() - closing;
                    let indent = at
                        .checked_sub(1)
                        .and_then(|i| children[..i].iter().rev().find(|n| is_blank(n)).cloned());
                    insert(children, at, nodes, indent, true);
                }
                Some("prepend") => {
                    let children = &mut tree.element_mut(&path).children;
                    let indent = children.first().filter(|n| is_blank(n)).cloned();
                    let at = usize::from(indent.is_some());
                    insert(children, at, nodes, indent, false);
                }
                Some(pos @ ("before" | "after")) => {
                    let Some((index, parent)) = path.split_last() else {
                        return Err(fail(format!("nothing can be added {pos} the root")));
                    };
                    let children = &mut tree.element_mut(parent).children;
                    let indent = index
                        .checked_sub(1)
                        .map(|i| &children[i])
                        .filter(|n| is_blank(n))
                        .cloned();
                    if pos == "before" {
                        insert(children, *index, nodes, indent, false);
                    } else {
                        insert(children, index + 1, nodes, indent, true);
                    }
                }
                Some(other) => return Err(fail(format!("pos=\"{other}\" is not a position"))),
            }
        }
        ("replace", Target::Element(path)) => {
            let mut nodes = content(op)
                .into_iter()
                .filter(|n| matches!(n, Node::Element(_)));
            let (Some(new), None) = (nodes.next(), nodes.next()) else {
                return Err(fail("an element is replaced by exactly one element".into()));
            };
            match path.split_last() {
                Some((index, parent)) => tree.element_mut(parent).children[*index] = new,
                None => {
                    let Node::Element(new) = new else {
                        unreachable!()
                    };
                    tree.root = new;
                }
            }
        }
        ("replace", Target::Attribute(path, attribute)) => {
            tree.element_mut(&path)
                .set_attribute(&attribute, &text_of(op));
        }
        ("remove", Target::Element(path)) => {
            let Some((index, parent)) = path.split_last() else {
                return Err(fail("the root cannot be removed".into()));
            };
            let children = &mut tree.element_mut(parent).children;
            children.remove(*index);
            // The line the element stood on goes with it.
            if *index > 0
                && matches!(&children[index - 1], Node::Text(t) if t.trim().is_empty())
                && children
                    .get(*index)
                    .is_none_or(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
            {
                children.remove(index - 1);
            }
        }
        ("remove", Target::Attribute(path, attribute)) => {
            let element = tree.element_mut(&path);
            element.attributes.retain(|(name, _)| name != &attribute);
        }
        ("add", Target::Attribute(..)) => {
            return Err(fail("nothing can be added to an attribute".into()));
        }
        (other, _) => return Err(fail(format!("<{other}> is not a patch operation"))),
    }
    Ok(())
}

/// Whether a node is whitespace between elements.
fn is_blank(node: &Node) -> bool {
    matches!(node, Node::Text(t) if t.trim().is_empty())
}

/// Inserts `nodes` at `at`, each element on its own line with `indent` (the whitespace its
/// siblings stand after): before each when `lead`, else after each.
fn insert(children: &mut Vec<Node>, at: usize, nodes: Vec<Node>, indent: Option<Node>, lead: bool) {
    let mut spaced = Vec::with_capacity(nodes.len() * 2);
    for node in nodes {
        match (&indent, lead) {
            (Some(ws), true) => {
                spaced.push(ws.clone());
                spaced.push(node);
            }
            (Some(ws), false) => {
                spaced.push(node);
                spaced.push(ws.clone());
            }
            (None, _) => spaced.push(node),
        }
    }
    children.splice(at..at, spaced);
}

/// The text of an operation (the value of an attribute it adds or replaces).
fn text_of(op: XmlNode) -> String {
    op.children()
        .filter(XmlNode::is_text)
        .filter_map(|t| t.text())
        .collect::<String>()
        .trim()
        .to_string()
}

/// The nodes an `add` or `replace` carries, as nodes of the manifest: elements keep the names
/// they are written with (unprefixed names are the manifest's elements), and declare only the
/// namespaces declared inside the operation.
fn content(op: XmlNode) -> Vec<Node> {
    op.children()
        .filter_map(|child| match child.node_type() {
            NodeType::Element => Some(Node::Element(Element::of(child, Some(op)))),
            NodeType::Comment => child.text().map(|t| Node::Comment(t.to_string())),
            NodeType::Text => child
                .text()
                .filter(|t| !t.trim().is_empty())
                .map(|t| Node::Text(t.to_string())),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Node {
    Element(Element),
    Text(String),
    Comment(String),
}

/// An element as written: its qualified name, its attributes in order (namespace declarations
/// among them, as `xmlns` / `xmlns:p`), its children.
#[derive(Debug, Clone)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Element {
    /// The element `node` with its subtree, declaring the namespaces that are in scope at
    /// `node` and not at `scope` (its parent when none is given). The patch namespace is never
    /// declared: unprefixed names in a patch's content are the manifest's.
    fn of(node: XmlNode, scope: Option<XmlNode>) -> Element {
        // The root of an operation's content declares the prefixes its subtree uses, wherever
        // the patch declared them (the manifest it lands in may not).
        let used = scope.map(|_| used_prefixes(node));
        let scope = scope.or_else(|| node.parent_element());
        let mut attributes = Vec::new();
        for ns in node.namespaces() {
            let inherited = match (&used, ns.name()) {
                (Some(used), Some(prefix)) => !used.contains(prefix),
                _ => scope.is_some_and(|p| {
                    p.namespaces()
                        .any(|o| o.name() == ns.name() && o.uri() == ns.uri())
                }),
            };
            if inherited || ns.uri() == PATCH_NAMESPACE || ns.name() == Some("xml") {
                continue;
            }
            let name = match ns.name() {
                Some(prefix) => format!("xmlns:{prefix}"),
                None => "xmlns".to_string(),
            };
            attributes.push((name, ns.uri().to_string()));
        }
        for attribute in node.attributes() {
            let name = match attribute
                .namespace()
                .and_then(|uri| prefix_of(node, uri, false))
            {
                Some(prefix) => format!("{prefix}:{}", attribute.name()),
                None => attribute.name().to_string(),
            };
            attributes.push((name, attribute.value().to_string()));
        }
        let name = match node
            .tag_name()
            .namespace()
            .and_then(|uri| prefix_of(node, uri, true))
        {
            Some(prefix) => format!("{prefix}:{}", node.tag_name().name()),
            None => node.tag_name().name().to_string(),
        };
        let children = node
            .children()
            .filter_map(|child| match child.node_type() {
                NodeType::Element => Some(Node::Element(Element::of(child, None))),
                NodeType::Text => child.text().map(|t| Node::Text(t.to_string())),
                NodeType::Comment => child.text().map(|t| Node::Comment(t.to_string())),
                _ => None,
            })
            .collect();
        Element {
            name,
            attributes,
            children,
        }
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set_attribute(&mut self, name: &str, value: &str) {
        match self.attributes.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.attributes.push((name.to_string(), value.to_string())),
        }
    }

    /// The name without its prefix.
    fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape(value, true, out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Element(e) => e.write(out),
                Node::Text(t) => escape(t, false, out),
                Node::Comment(c) => {
                    out.push_str("<!--");
                    out.push_str(c);
                    out.push_str("-->");
                }
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// The prefixes the names of `node` and its subtree are written with.
fn used_prefixes<'a>(node: XmlNode<'a, '_>) -> std::collections::HashSet<&'a str> {
    let mut used = std::collections::HashSet::new();
    for element in node.descendants().filter(XmlNode::is_element) {
        if let Some(p) = element
            .tag_name()
            .namespace()
            .and_then(|uri| prefix_of(element, uri, true))
        {
            used.insert(p);
        }
        for attribute in element.attributes() {
            if let Some(p) = attribute
                .namespace()
                .and_then(|uri| prefix_of(element, uri, false))
            {
                used.insert(p);
            }
        }
    }
    used
}

/// The prefix `uri` is bound to at `node` (None for the default namespace of an element).
fn prefix_of<'a>(node: XmlNode<'a, '_>, uri: &str, element: bool) -> Option<&'a str> {
    if uri == "http://www.w3.org/XML/1998/namespace" {
        return Some("xml");
    }
    // An element in the default namespace is written without a prefix; an attribute in a
    // namespace always has one.
    if element
        && node
            .namespaces()
            .any(|ns| ns.name().is_none() && ns.uri() == uri)
    {
        return None;
    }
    node.namespaces()
        .find(|ns| ns.uri() == uri && ns.name().is_some())
        .and_then(|ns| ns.name())
}

fn escape(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
}

/// The manifest as a tree.
struct Tree {
    root: Element,
}

impl Tree {
    fn of(doc: &Document) -> Tree {
        Tree {
            root: Element::of(doc.root_element(), None),
        }
    }

    fn root_mut(&mut self) -> &mut Element {
        &mut self.root
    }

    /// The element at `path` (child indices from the root); the path comes from a selection.
    fn element_mut(&mut self, path: &[usize]) -> &mut Element {
        let mut element = &mut self.root;
        for &i in path {
            element = match &mut element.children[i] {
                Node::Element(e) => e,
                _ => unreachable!("a selection names elements only"),
            };
        }
        element
    }

    fn element(&self, path: &[usize]) -> &Element {
        let mut element = &self.root;
        for &i in path {
            element = match &element.children[i] {
                Node::Element(e) => e,
                _ => unreachable!("a selection names elements only"),
            };
        }
        element
    }

    fn to_text(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.root.write(&mut out);
        out.push('\n');
        out
    }
}

/// What a selector names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// An element, by child indices from the root.
    Element(Vec<usize>),
    /// An attribute of an element.
    Attribute(Vec<usize>, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Predicate {
    /// `[n]`, 1-based.
    Position(usize),
    /// `[@name='value']`.
    Attribute(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    name: String,
    predicates: Vec<Predicate>,
}

/// A selector of the restricted XPath.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selector {
    steps: Vec<Step>,
    attribute: Option<String>,
}

impl Selector {
    fn parse(sel: &str) -> Result<Selector, String> {
        let unsupported = |why: &str| format!("unsupported selector ({why})");
        let text = sel.trim();
        let text = text.strip_prefix('/').unwrap_or(text);
        if text.is_empty() {
            return Err(unsupported("empty"));
        }
        if text.starts_with('/') || text.contains("//") {
            return Err(unsupported("'//' is not in the restricted XPath"));
        }
        let mut steps = Vec::new();
        let mut attribute = None;
        let parts = split_steps(text)?;
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            if let Some(name) = part.strip_prefix('@') {
                if i + 1 != count {
                    return Err(unsupported("an attribute step before the last"));
                }
                if !is_name(name) {
                    return Err(unsupported("an attribute name"));
                }
                attribute = Some(name.to_string());
                continue;
            }
            let (name, mut rest) = match part.find('[') {
                Some(at) => (&part[..at], &part[at..]),
                None => (part.as_str(), ""),
            };
            if !is_name(name) {
                return Err(unsupported(&format!("the step \"{part}\"")));
            }
            let mut predicates = Vec::new();
            while !rest.is_empty() {
                let close = matching_bracket(rest).ok_or_else(|| unsupported("a bracket"))?;
                let inner = rest[1..close].trim();
                rest = &rest[close + 1..];
                if let Ok(n) = inner.parse::<usize>() {
                    if n == 0 {
                        return Err(unsupported("position 0"));
                    }
                    predicates.push(Predicate::Position(n));
                    continue;
                }
                for test in split_and(inner) {
                    predicates.push(
                        attribute_test(test)
                            .ok_or_else(|| unsupported(&format!("the predicate [{inner}]")))?,
                    );
                }
            }
            steps.push(Step {
                name: name.to_string(),
                predicates,
            });
        }
        if steps.is_empty() {
            return Err(unsupported("no element step"));
        }
        Ok(Selector { steps, attribute })
    }

    /// The one node the selector names in `tree`.
    fn select(&self, tree: &Tree) -> Result<Target, String> {
        let first = &self.steps[0];
        if !name_matches(&first.name, &tree.root) {
            return Err(format!(
                "the root is <{}>, not <{}>",
                tree.root.name, first.name
            ));
        }
        let mut current: Vec<Vec<usize>> = filter(tree, vec![Vec::new()], &first.predicates);
        for step in &self.steps[1..] {
            let mut next = Vec::new();
            for path in &current {
                let element = tree.element(path);
                let matching: Vec<Vec<usize>> = element
                    .children
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| matches!(n, Node::Element(e) if name_matches(&step.name, e)))
                    .map(|(i, _)| {
                        let mut p = path.clone();
                        p.push(i);
                        p
                    })
                    .collect();
                next.extend(filter(tree, matching, &step.predicates));
            }
            current = next;
        }
        let path = match current.len() {
            1 => current.pop().unwrap_or_default(),
            0 => return Err("no node of the manifest matches".into()),
            n => return Err(format!("{n} nodes of the manifest match, not one")),
        };
        match &self.attribute {
            None => Ok(Target::Element(path)),
            Some(name) => Ok(Target::Attribute(path, name.clone())),
        }
    }
}

/// The elements of `paths` (siblings, in document order) that pass `predicates`, applied in
/// order as XPath does (a position counts among those that passed the predicates before it).
fn filter(tree: &Tree, mut paths: Vec<Vec<usize>>, predicates: &[Predicate]) -> Vec<Vec<usize>> {
    for predicate in predicates {
        paths = match predicate {
            Predicate::Position(n) => paths.into_iter().nth(n - 1).into_iter().collect(),
            Predicate::Attribute(name, value) => paths
                .into_iter()
                .filter(|p| tree.element(p).attribute(name) == Some(value.as_str()))
                .collect(),
        };
    }
    paths
}

/// Whether a step's name names `element` (by local name; a prefixed step also by prefix).
fn name_matches(step: &str, element: &Element) -> bool {
    if step == "*" {
        return true;
    }
    if step.contains(':') {
        step == element.name
    } else {
        step == element.local_name()
    }
}

fn is_name(name: &str) -> bool {
    name == "*"
        || (!name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || "_-.:".contains(c))
            && !name.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.'))
}

/// The steps of a path, split at the slashes outside brackets and quotes.
fn split_steps(text: &str) -> Result<Vec<String>, String> {
    let mut steps = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '/') if depth == 0 => {
                steps.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if quote.is_some() || depth != 0 {
        return Err("unsupported selector (an unclosed quote or bracket)".into());
    }
    steps.push(current);
    if steps.iter().any(String::is_empty) {
        return Err("unsupported selector (an empty step)".into());
    }
    Ok(steps)
}

/// The index of the `]` that closes the `[` at the start of `text`, quotes respected.
fn matching_bracket(text: &str) -> Option<usize> {
    if !text.starts_with('[') {
        return None;
    }
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ']') => return Some(i),
            (None, '[') => return None,
            _ => {}
        }
    }
    None
}

/// The tests of a predicate joined by `and` (outside quotes).
fn split_and(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ' ') if text[i..].starts_with(" and ") => {
                parts.push(text[start..i].trim());
                i += 5;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(text[start..].trim());
    parts
}

/// `@name='value'` or `@name="value"`.
fn attribute_test(test: &str) -> Option<Predicate> {
    let rest = test.strip_prefix('@')?;
    let (name, value) = rest.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    if !is_name(name) || name == "*" {
        return None;
    }
    let quote = value.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = value.strip_prefix(quote)?.strip_suffix(quote)?;
    if inner.contains(quote) {
        return None;
    }
    Some(Predicate::Attribute(name.to_string(), inner.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:dvb="urn:dvb:dash:dash-extensions:2014-1" id="m" publishTime="2026-01-01T00:00:00Z" type="dynamic">
  <BaseURL dvb:priority="1">a/</BaseURL>
  <Period id="p0">
    <AdaptationSet id="1">
      <SegmentTemplate media="$Time$.m4s" timescale="10">
        <SegmentTimeline>
          <S t="0" d="20"/>
          <S d="20"/>
        </SegmentTimeline>
      </SegmentTemplate>
    </AdaptationSet>
  </Period>
</MPD>"#;

    fn patch(ops: &str) -> String {
        format!(
            r#"<Patch xmlns="urn:mpeg:dash:schema:mpd-patch:2020" mpdId="m" originalPublishTime="2026-01-01T00:00:00Z" publishTime="2026-01-01T00:00:02Z">{ops}</Patch>"#
        )
    }

    fn apply(ops: &str) -> Result<String, PatchError> {
        apply_patch(MPD.as_bytes(), patch(ops).as_bytes()).map(|p| p.text)
    }

    const TIMELINE: &str =
        "/MPD/Period[@id='p0']/AdaptationSet[@id='1']/SegmentTemplate/SegmentTimeline";

    #[test]
    fn adds_removes_and_replaces() {
        let text = apply(&format!(
            r#"<remove sel="{TIMELINE}/S[1]"/><add sel="{TIMELINE}" pos="prepend"><S t="20" d="20"/></add><add sel="{TIMELINE}"><S d="30"/></add><replace sel="/MPD/Period[1]/AdaptationSet/SegmentTemplate/@timescale">1000</replace>"#
        ))
        .unwrap();
        let mpd = crate::mpd::parse_mpd(text.as_bytes()).unwrap();
        assert_eq!(
            mpd.live.publish_time.unwrap().instant,
            parse_datetime("2026-01-01T00:00:02Z").unwrap().instant
        );
        assert!(text.contains(r#"<S t="20" d="20"/>"#), "{text}");
        assert!(!text.contains(r#"<S t="0" d="20"/>"#), "{text}");
        assert!(text.contains(r#"timescale="1000""#), "{text}");
        let s: Vec<&str> = text.matches("<S ").collect();
        assert_eq!(s.len(), 3, "{text}");
        // Prefixes and declarations kept as written.
        assert!(text.contains(r#"xmlns:dvb="urn:dvb:dash:dash-extensions:2014-1""#));
        assert!(text.contains(r#"<BaseURL dvb:priority="1">a/</BaseURL>"#));
        assert!(!text.contains(PATCH_NAMESPACE), "{text}");
    }

    #[test]
    fn positions_before_after_and_attributes() {
        let text = apply(&format!(
            r#"<add sel="{TIMELINE}/S[2]" pos="after"><S d="5"/></add><add sel="{TIMELINE}/S[1]" pos="before"><S t="-10" d="10"/></add><add sel="/MPD/Period" type="@start">PT0S</add><remove sel="/MPD/@type"/>"#
        ))
        .unwrap();
        let order: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("<S "))
            .map(str::trim)
            .collect();
        assert_eq!(
            order,
            [
                r#"<S t="-10" d="10"/>"#,
                r#"<S t="0" d="20"/>"#,
                r#"<S d="20"/>"#,
                r#"<S d="5"/>"#
            ],
            "{text}"
        );
        assert!(text.contains(r#"<Period id="p0" start="PT0S">"#), "{text}");
        assert!(!text.contains("type="), "{text}");
    }

    #[test]
    fn refuses_what_does_not_apply() {
        let err = |ops: &str| apply(ops).unwrap_err().to_string();
        assert!(err(r#"<remove sel="/MPD/Period[@id='p9']"/>"#).contains("no node"));
        assert!(err(&format!(r#"<remove sel="{TIMELINE}/S"/>"#)).contains("2 nodes"));
        assert!(err(r#"<remove sel="//S"/>"#).contains("unsupported selector"));
        assert!(err(r#"<remove sel="/MPD/Period[last()]"/>"#).contains("unsupported"));
        assert!(err(r#"<add sel="/MPD" pos="middle"><X/></add>"#).contains("pos"));
        assert!(err(r#"<replace sel="/MPD/Period"><A/><B/></replace>"#).contains("exactly one"));
        assert!(err(r#"<remove sel="/MPD"/>"#).contains("root"));
        assert!(err(r#"<frobnicate sel="/MPD"/>"#).contains("not a patch operation"));
        // Another manifest, another version.
        let other = patch("").replace("mpdId=\"m\"", "mpdId=\"x\"");
        let e = apply_patch(MPD.as_bytes(), other.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("MPD@id"), "{e}");
        let stale = patch("").replace("T00:00:00Z\" publish", "T00:00:01Z\" publish");
        let e = apply_patch(MPD.as_bytes(), stale.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("publishTime"), "{e}");
        let e = apply_patch(MPD.as_bytes(), MPD.as_bytes()).unwrap_err();
        assert!(matches!(e, PatchError::NotAPatch(_)), "{e}");
        let e = apply_patch(MPD.as_bytes(), b"<Patch").unwrap_err();
        assert!(matches!(e, PatchError::Unreadable { .. }), "{e}");
    }

    #[test]
    fn selectors_parse_as_the_restricted_xpath() {
        let s = Selector::parse("/MPD/Period[@id='a' and @start=\"PT1S\"][2]/@x").unwrap();
        assert_eq!(s.steps.len(), 2);
        assert_eq!(
            s.steps[1].predicates,
            [
                Predicate::Attribute("id".into(), "a".into()),
                Predicate::Attribute("start".into(), "PT1S".into()),
                Predicate::Position(2)
            ]
        );
        assert_eq!(s.attribute.as_deref(), Some("x"));
        // Slashes and brackets inside quotes are values.
        let s = Selector::parse("/MPD/BaseURL[@serviceLocation='a/b[c]']").unwrap();
        assert_eq!(
            s.steps[1].predicates,
            [Predicate::Attribute(
                "serviceLocation".into(),
                "a/b[c]".into()
            )]
        );
        for bad in [
            "",
            "/",
            "/MPD/@a/B",
            "/MPD[0]",
            "/MPD[@a='x]",
            "/MPD/text()",
            "/MPD/../x",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_declares_the_prefixes_it_uses() {
        let ops = r#"<add sel="/MPD/Period" xmlns:x="urn:x" xmlns:unused="urn:u"><x:Event x:n="1"><x:Inner/></x:Event></add>"#;
        let text = apply(ops).unwrap();
        roxmltree::Document::parse(&text).unwrap();
        assert!(
            text.contains(r#"<x:Event xmlns:x="urn:x" x:n="1"><x:Inner/></x:Event>"#),
            "{text}"
        );
        assert!(!text.contains("urn:u"), "{text}");
    }

    #[test]
    fn survives_arbitrary_selectors_and_documents() {
        for sel in [
            "/[",
            "/]]",
            "/MPD['",
            "/MPD[@=1]",
            "/MPD[@a=b]",
            "/MPD[ and ]",
            "/MPD/@",
        ] {
            let _ = apply(&format!(r#"<remove sel="{sel}"/>"#));
        }
        let _ = apply_patch(b"\xff\xfe", b"");
        let _ = apply_patch(
            MPD.as_bytes(),
            "<Patch xmlns=\"urn:mpeg:dash:schema:mpd-patch:2020\"/>".as_bytes(),
        );
    }
}
