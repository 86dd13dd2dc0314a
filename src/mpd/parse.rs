//! From manifest bytes to the typed model, with roxmltree (DTDs, hence entity expansion,
//! are refused).

use roxmltree::{Document, Node, ParsingOptions};

use super::duration::parse_duration;
use super::model::*;

/// Why a manifest could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The bytes are not UTF-8 text.
    #[error("not a text document (invalid UTF-8 at byte {0})")]
    NotText(usize),
    /// Not well-formed XML (or it has a DTD).
    #[error("not valid XML: {0}")]
    NotXml(String),
    /// A document of another kind (a web page, an HLS playlist, JSON): what it looks like.
    #[error("not a DASH manifest: {0}")]
    OtherDocument(&'static str),
    /// Well-formed XML whose root is not `MPD`.
    #[error("not a DASH manifest: the root element is <{0}>, not <MPD>")]
    NoMpdRoot(String),
    /// An attribute with a value of the wrong form.
    #[error("{element}@{attribute}: {message}")]
    BadAttribute {
        /// Where the element is (`Period[0]/AdaptationSet[1]/SegmentTemplate`).
        element: String,
        /// The attribute's name.
        attribute: String,
        /// What is wrong.
        message: String,
    },
    /// A feature of the format that is recognised and not supported.
    #[error("{element}: {feature} {verb} not supported")]
    Unsupported {
        /// Where it is.
        element: String,
        /// What it is.
        feature: String,
        /// "is" or "are".
        verb: &'static str,
    },
}

/// Parses manifest bytes into the model.
pub fn parse_mpd(bytes: &[u8]) -> Result<Mpd, ParseError> {
    with_document(bytes, build_mpd)
}

/// Parses manifest bytes as XML under the manifest's rules (UTF-8, a byte order mark allowed,
/// no DTD, a node limit, web pages and other formats named) and gives the document to `read`.
/// Real manifests use namespace prefixes they never declare (`scte35:` in SCTE-35 events): such
/// prefixes are declared on the root element and the text parsed again.
pub(super) fn with_document<T>(
    bytes: &[u8],
    read: impl FnOnce(&Document) -> Result<T, ParseError>,
) -> Result<T, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotText(e.valid_up_to()))?;
    // A UTF-8 byte order mark is legal before the XML declaration.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(kind) = other_document(text) {
        return Err(ParseError::OtherDocument(kind));
    }
    let mut patched: Option<String> = None;
    for _ in 0..32 {
        let current = patched.as_deref().unwrap_or(text);
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: 5_000_000,
            ..ParsingOptions::default()
        };
        let undeclared = match Document::parse_with_options(current, options) {
            Ok(doc) => return read(&doc),
            Err(roxmltree::Error::UnknownNamespace(prefix, pos)) => (prefix, pos),
            Err(e) => return Err(ParseError::NotXml(e.to_string())),
        };
        let (prefix, pos) = undeclared;
        let declared = declare_prefix(current, &prefix).ok_or_else(|| {
            ParseError::NotXml(format!("an unknown namespace prefix '{prefix}' at {pos}"))
        })?;
        patched = Some(declared);
    }
    Err(ParseError::NotXml(
        "too many undeclared namespace prefixes".into(),
    ))
}

/// Adds `xmlns:PREFIX="..."` to the root element's start tag.
fn declare_prefix(text: &str, prefix: &str) -> Option<String> {
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c))
    {
        return None;
    }
    let mut pos = 0;
    loop {
        let lt = pos + text[pos..].find('<')?;
        let rest = &text[lt..];
        pos = if rest.starts_with("<?") {
            lt + rest.find("?>")? + 2
        } else if rest.starts_with("<!--") {
            lt + rest.find("-->")? + 3
        } else if rest.starts_with("<!") {
            lt + rest.find('>')? + 1
        } else {
            let name_len = rest[1..].find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            let insert_at = lt + 1 + name_len;
            let mut out = String::with_capacity(text.len() + 64);
            out.push_str(&text[..insert_at]);
            out.push_str(&format!(
                " xmlns:{prefix}=\"urn:dashget:undeclared:{prefix}\""
            ));
            out.push_str(&text[insert_at..]);
            return Some(out);
        };
    }
}

/// What a document that is plainly not XML, or is a web page, looks like (a login page or an
/// error page served in place of the manifest, a playlist of another format).
fn other_document(text: &str) -> Option<&'static str> {
    let head = text.trim_start();
    let lower: String = head
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        Some("it is an HTML page (a web page, or an error or login page served in its place)")
    } else if head.starts_with("#EXTM3U") {
        Some("it is an HLS playlist (#EXTM3U)")
    } else if head.starts_with('{') || head.starts_with('[') {
        Some("it is JSON")
    } else {
        None
    }
}

fn build_mpd(doc: &Document) -> Result<Mpd, ParseError> {
    let root = doc.root_element();
    if root.tag_name().name() == "html" {
        return Err(ParseError::OtherDocument(
            "it is an HTML page (a web page, or an error or login page served in its place)",
        ));
    }
    if root.tag_name().name() != "MPD" {
        return Err(ParseError::NoMpdRoot(root.tag_name().name().to_string()));
    }
    let at = Ctx("MPD".to_string());
    let presentation_type = match root.attribute("type").map(str::trim) {
        None | Some("static") => PresentationType::Static,
        Some("dynamic") => PresentationType::Dynamic,
        Some("list") => {
            return Err(Ctx("MPD@type=\"list\"".into()).unsupported(
                "list MPDs (a list of other MPDs, ISO/IEC 23009-1 §5.3.1.2)",
                "are",
            ));
        }
        Some(other) => {
            return Err(at.bad("type", format!("\"{other}\" is neither static nor dynamic")));
        }
    };
    let mut periods = Vec::new();
    for (index, node) in children(root, "Period").enumerate() {
        periods.push(parse_period(node, &at.child(format!("Period[{index}]")))?);
    }
    let live = match super::live::read_live(root) {
        Ok(live) => live,
        Err(e) if presentation_type == PresentationType::Dynamic => return Err(e),
        Err(_) => super::live::LiveAttributes::default(),
    };
    Ok(Mpd {
        live,
        presentation_type,
        media_presentation_duration: duration_attr(root, "mediaPresentationDuration", &at)?,
        base_urls: base_urls(root),
        url_query: url_query_info(root, &at)?,
        periods,
    })
}

/// Location of an element, for messages.
struct Ctx(String);

impl Ctx {
    fn child(&self, name: String) -> Ctx {
        Ctx(format!("{}/{name}", self.0))
    }
    fn unsupported(&self, feature: impl Into<String>, verb: &'static str) -> ParseError {
        ParseError::Unsupported {
            element: self.0.clone(),
            feature: feature.into(),
            verb,
        }
    }
    fn bad(&self, attribute: &str, message: String) -> ParseError {
        ParseError::BadAttribute {
            element: self.0.clone(),
            attribute: attribute.to_string(),
            message,
        }
    }
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn first_child<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    children(node, name).next()
}

fn base_urls(node: Node) -> Vec<BaseUrl> {
    // `dvb:priority` and `dvb:weight` by local name, whatever the prefix bound to DVB's
    // namespace (a malformed number is as if absent: the BaseURL is still an alternative).
    let dvb = |b: Node, name: &str| {
        b.attributes()
            .find(|a| a.name() == name && a.namespace().is_some())
            .and_then(|a| a.value().trim().parse::<u32>().ok())
    };
    children(node, "BaseURL")
        .map(|b| BaseUrl {
            url: b.text().unwrap_or("").trim().to_string(),
            service_location: string_attr(b, "serviceLocation"),
            priority: dvb(b, "priority"),
            weight: dvb(b, "weight"),
        })
        .collect()
}

fn string_attr(node: Node, name: &str) -> Option<String> {
    node.attribute(name).map(|v| v.trim().to_string())
}

fn uint_attr(node: Node, name: &str, at: &Ctx) -> Result<Option<u64>, ParseError> {
    let Some(value) = node.attribute(name) else {
        return Ok(None);
    };
    let value = value.trim();
    value
        .parse::<u64>()
        .map(Some)
        .map_err(|_| at.bad(name, format!("\"{value}\" is not an unsigned integer")))
}

fn int_attr(node: Node, name: &str, at: &Ctx) -> Result<Option<i64>, ParseError> {
    let Some(value) = node.attribute(name) else {
        return Ok(None);
    };
    let value = value.trim();
    value
        .parse::<i64>()
        .map(Some)
        .map_err(|_| at.bad(name, format!("\"{value}\" is not an integer")))
}

fn duration_attr(node: Node, name: &str, at: &Ctx) -> Result<Option<u64>, ParseError> {
    let Some(value) = node.attribute(name) else {
        return Ok(None);
    };
    parse_duration(value)
        .map(Some)
        .map_err(|e| at.bad(name, e.to_string()))
}

/// A non-negative decimal (`@duration` of segment templates: `2000`, vendors' `2002.5`),
/// scaled by 10^9 and exact.
fn decimal_e9_attr(node: Node, name: &str, at: &Ctx) -> Result<Option<u128>, ParseError> {
    let Some(value) = node.attribute(name) else {
        return Ok(None);
    };
    let value = value.trim();
    let bad = || at.bad(name, format!("\"{value}\" is not a non-negative number"));
    let (int_part, frac_part) = value.split_once('.').unwrap_or((value, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let int: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| bad())?
    };
    let mut frac: u128 = 0;
    for i in 0..9 {
        frac = frac * 10
            + frac_part
                .as_bytes()
                .get(i)
                .map_or(0, |b| u128::from(b - b'0'));
    }
    int.checked_mul(1_000_000_000)
        .and_then(|v| v.checked_add(frac))
        .map(Some)
        .ok_or_else(bad)
}

fn parse_period(node: Node, at: &Ctx) -> Result<Period, ParseError> {
    let mut adaptation_sets = Vec::new();
    for (index, child) in children(node, "AdaptationSet").enumerate() {
        adaptation_sets.push(parse_adaptation_set(
            child,
            &at.child(format!("AdaptationSet[{index}]")),
        )?);
    }
    Ok(Period {
        id: string_attr(node, "id"),
        start: duration_attr(node, "start", at)?,
        duration: duration_attr(node, "duration", at)?,
        xlink_href: node
            .attributes()
            .find(|a| a.name() == "href")
            .map(|a| a.value().to_string()),
        base_urls: base_urls(node),
        url_query: url_query_info(node, at)?,
        segment_info: parse_segment_info(node, at)?,
        stray_representations: children(node, "Representation").count(),
        adaptation_sets,
    })
}

fn parse_adaptation_set(node: Node, at: &Ctx) -> Result<AdaptationSet, ParseError> {
    let mut representations = Vec::new();
    for (index, child) in children(node, "Representation").enumerate() {
        representations.push(parse_representation(
            child,
            &at.child(format!("Representation[{index}]")),
        )?);
    }
    Ok(AdaptationSet {
        id: string_attr(node, "id"),
        content_type: string_attr(node, "contentType"),
        mime_type: string_attr(node, "mimeType"),
        codecs: string_attr(node, "codecs"),
        lang: string_attr(node, "lang"),
        role: children(node, "Role")
            .next()
            .and_then(|r| string_attr(r, "value")),
        base_urls: base_urls(node),
        url_query: url_query_info(node, at)?,
        segment_info: parse_segment_info(node, at)?,
        source: source_xml(
            node,
            &["id", "contentType"],
            &[
                "BaseURL",
                "SegmentBase",
                "SegmentList",
                "SegmentTemplate",
                "Representation",
            ],
        ),
        representations,
    })
}

fn parse_representation(node: Node, at: &Ctx) -> Result<Representation, ParseError> {
    Ok(Representation {
        id: string_attr(node, "id"),
        bandwidth: uint_attr(node, "bandwidth", at)?,
        mime_type: string_attr(node, "mimeType"),
        codecs: string_attr(node, "codecs"),
        base_urls: base_urls(node),
        url_query: url_query_info(node, at)?,
        segment_info: parse_segment_info(node, at)?,
        source: source_xml(
            node,
            &["id", "bandwidth", "mimeType", "codecs"],
            &["BaseURL", "SegmentBase", "SegmentList", "SegmentTemplate"],
        ),
    })
}

/// An element's attributes and children as written, but for the attributes named in `skip`
/// and the DASH elements named in `skip_children` (see [`SourceXml`]).
fn source_xml(node: Node, skip: &[&str], skip_children: &[&str]) -> SourceXml {
    let mut source = SourceXml::default();
    let uses = |prefix: &str, uri: &str, source: &mut SourceXml| {
        if !source.namespaces.iter().any(|(p, _)| p == prefix) {
            source
                .namespaces
                .push((prefix.to_string(), uri.to_string()));
        }
    };
    for attribute in node.attributes() {
        let name = match attribute.namespace() {
            None if skip.contains(&attribute.name()) => continue,
            None => attribute.name().to_string(),
            Some(uri) => match node.lookup_prefix(uri) {
                Some(prefix) if !prefix.is_empty() => {
                    uses(prefix, uri, &mut source);
                    format!("{prefix}:{}", attribute.name())
                }
                _ => continue,
            },
        };
        source
            .attributes
            .push((name, attribute.value().to_string()));
    }
    let text = node.document().input_text();
    for child in node.children().filter(Node::is_element) {
        // The parser reads these children by their local name, whatever their namespace: they
        // are the model's (addressing, Representations), not descriptions.
        if skip_children.contains(&child.tag_name().name()) {
            continue;
        }
        let Some(xml) = text.get(child.range()) else {
            continue;
        };
        for ns in child.namespaces() {
            if let Some(prefix) = ns.name()
                && prefix != "xml"
            {
                uses(prefix, ns.uri(), &mut source);
            }
        }
        source.children.push(xml.to_string());
    }
    source
}

/// The first URL query descriptor of an element (ISO/IEC 23009-1 Annex I): `EssentialProperty`
/// before `SupplementalProperty`, in document order, as players do.
fn url_query_info(node: Node, at: &Ctx) -> Result<Option<UrlQueryInfo>, ParseError> {
    let descriptors = children(node, "EssentialProperty")
        .map(|d| (d, "EssentialProperty"))
        .chain(children(node, "SupplementalProperty").map(|d| (d, "SupplementalProperty")));
    for (descriptor, name) in descriptors {
        let scheme = descriptor.attribute("schemeIdUri").map(str::trim);
        let scheme_2016 = match scheme {
            Some("urn:mpeg:dash:urlparam:2014") => false,
            Some("urn:mpeg:dash:urlparam:2016") => true,
            _ => continue,
        };
        let Some(info) = descriptor.children().find(|c| {
            c.is_element() && matches!(c.tag_name().name(), "UrlQueryInfo" | "ExtUrlQueryInfo")
        }) else {
            continue;
        };
        let at = at.child(format!("{name}/{}", info.tag_name().name()));
        if let Some(href) = info.attributes().find(|a| a.name() == "href") {
            return Err(at.unsupported(
                format!(
                    "URL query information delivered through xlink (xlink:href=\"{}\")",
                    href.value()
                ),
                "is",
            ));
        }
        let use_mpd_url_query = match info.attribute("useMPDUrlQuery").map(str::trim) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(at.bad("useMPDUrlQuery", format!("\"{other}\" is not a boolean")));
            }
        };
        return Ok(Some(UrlQueryInfo {
            extended: scheme_2016 || info.tag_name().name() == "ExtUrlQueryInfo",
            query_template: info.attribute("queryTemplate").map(str::to_string),
            use_mpd_url_query,
            query_string: info.attribute("queryString").map(str::to_string),
            include_in_requests: string_attr(info, "includeInRequests"),
        }));
    }
    Ok(None)
}

fn parse_segment_info(node: Node, at: &Ctx) -> Result<SegmentInfo, ParseError> {
    let mut info = SegmentInfo::default();
    if let Some(n) = first_child(node, "SegmentBase") {
        info.base = Some(SegmentBase {
            common: parse_common(n, &at.child("SegmentBase".into()))?,
        });
    }
    if let Some(n) = first_child(node, "SegmentList") {
        let at = at.child("SegmentList".into());
        let segment_urls = children(n, "SegmentURL")
            .map(|u| SegmentUrl {
                media: string_attr(u, "media"),
                media_range: string_attr(u, "mediaRange"),
            })
            .collect();
        info.list = Some(SegmentList {
            common: parse_common(n, &at)?,
            segment_urls,
        });
    }
    if let Some(n) = first_child(node, "SegmentTemplate") {
        let at = at.child("SegmentTemplate".into());
        info.template = Some(SegmentTemplate {
            common: parse_common(n, &at)?,
            media: string_attr(n, "media"),
            initialization: string_attr(n, "initialization"),
            index: string_attr(n, "index"),
            // Some packagers copy AdaptationSet's boolean here; it names no segment.
            bitstream_switching: string_attr(n, "bitstreamSwitching")
                .filter(|v| v != "true" && v != "false"),
        });
    }
    Ok(info)
}

fn parse_common(node: Node, at: &Ctx) -> Result<CommonSegmentAttributes, ParseError> {
    let url_with_range = |name: &'static str| {
        first_child(node, name).map(|i| UrlWithRange {
            source_url: string_attr(i, "sourceURL"),
            range: string_attr(i, "range"),
        })
    };
    let timeline = match first_child(node, "SegmentTimeline") {
        None => None,
        Some(tl) => {
            if tl
                .descendants()
                .any(|d| d.is_element() && d.tag_name().name() == "Pattern")
            {
                return Err(at
                    .child("SegmentTimeline/Pattern".into())
                    .unsupported("SegmentTimeline patterns (<Pattern>)", "are"));
            }
            let mut entries = Vec::new();
            for (index, s) in children(tl, "S").enumerate() {
                let at = at.child(format!("SegmentTimeline/S[{index}]"));
                let d = uint_attr(s, "d", &at)?.ok_or_else(|| at.bad("d", "is missing".into()))?;
                let r = int_attr(s, "r", &at)?.unwrap_or(0);
                if r < -1 {
                    return Err(at.bad("r", format!("{r} is below -1")));
                }
                entries.push(TimelineEntry {
                    t: int_attr(s, "t", &at)?,
                    n: uint_attr(s, "n", &at)?,
                    d,
                    r,
                    k: uint_attr(s, "k", &at)?,
                });
            }
            Some(entries)
        }
    };
    Ok(CommonSegmentAttributes {
        timescale: uint_attr(node, "timescale", at)?,
        presentation_time_offset: uint_attr(node, "presentationTimeOffset", at)?,
        index_range: string_attr(node, "indexRange"),
        initialization: url_with_range("Initialization"),
        representation_index: url_with_range("RepresentationIndex"),
        bitstream_switching: url_with_range("BitstreamSwitching"),
        duration_e9: decimal_e9_attr(node, "duration", at)?,
        start_number: uint_attr(node, "startNumber", at)?,
        end_number: uint_attr(node, "endNumber", at)?,
        timeline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_documents_say_what_they_are() {
        for (bytes, says) in [
            (
                &b"\n<!DOCTYPE html><html><body>Sign in</body></html>"[..],
                "HTML page",
            ),
            (b"<html><head></head></html>", "HTML page"),
            (b"#EXTM3U\n#EXT-X-VERSION:3\n", "HLS playlist"),
            (b"{\"error\": \"forbidden\"}", "JSON"),
        ] {
            let error = parse_mpd(bytes).unwrap_err().to_string();
            assert!(error.starts_with("not a DASH manifest: it is"), "{error}");
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn refuses_non_mpd_and_dtd() {
        assert!(matches!(parse_mpd(b"<svg/>"), Err(ParseError::NoMpdRoot(r)) if r == "svg"));
        assert!(matches!(
            parse_mpd(b"<?xml version=\"1.0\"?><html/>"),
            Err(ParseError::OtherDocument(_))
        ));
        assert!(matches!(
            parse_mpd(b"not xml at all"),
            Err(ParseError::NotXml(_))
        ));
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><MPD>&b;</MPD>"#;
        assert!(matches!(parse_mpd(bomb), Err(ParseError::NotXml(_))));
        assert!(matches!(
            parse_mpd(&[0xff, 0xfe, 0x00]),
            Err(ParseError::NotText(0))
        ));
    }

    #[test]
    fn undeclared_prefixes_are_tolerated() {
        let mpd = br#"<?xml version="1.0"?><!-- c --><MPD><Period><EventStream><Event><scte35:Signal><x:y/></scte35:Signal></Event></EventStream></Period></MPD>"#;
        assert_eq!(parse_mpd(mpd).map(|m| m.periods.len()), Ok(1));
    }

    #[test]
    fn negative_t_and_bad_attributes() {
        let mpd = br#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><SegmentTemplate media="m$Time$"><SegmentTimeline><S t="-100" d="10" r="2"/></SegmentTimeline></SegmentTemplate><Representation id="a"/></AdaptationSet></Period></MPD>"#;
        let parsed = parse_mpd(mpd).expect("parses");
        let tl = parsed.periods[0].adaptation_sets[0]
            .segment_info
            .template
            .as_ref()
            .and_then(|t| t.common.timeline.clone());
        assert_eq!(
            tl,
            Some(vec![TimelineEntry {
                t: Some(-100),
                n: None,
                d: 10,
                r: 2,
                k: None
            }])
        );
        let bad = br#"<MPD><Period><AdaptationSet><Representation id="a" bandwidth="lots"/></AdaptationSet></Period></MPD>"#;
        let err = parse_mpd(bad).expect_err("bad bandwidth");
        assert_eq!(
            err.to_string(),
            "MPD/Period[0]/AdaptationSet[0]/Representation[0]@bandwidth: \"lots\" is not an unsigned integer"
        );
    }

    #[test]
    fn fractional_template_duration() {
        let mpd = br#"<MPD><Period><AdaptationSet><SegmentTemplate duration="2002.5" media="x"/></AdaptationSet></Period></MPD>"#;
        let parsed = parse_mpd(mpd).expect("parses");
        let d = parsed.periods[0].adaptation_sets[0]
            .segment_info
            .template
            .as_ref()
            .and_then(|t| t.common.duration_e9);
        assert_eq!(d, Some(2_002_500_000_000));
    }
}
