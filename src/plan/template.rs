//! SegmentTemplate identifiers (ISO/IEC 23009-1 §5.3.9.4.4): `$RepresentationID$`, `$Number$`,
//! `$Time$`, `$Bandwidth$`, `$SubNumber$`, `$$`, with printf format tags (`$Number%05d$`).
//! A template is compiled once per representation, then expanded per segment.

use std::fmt::Write as _;

/// An identifier of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier {
    /// `$RepresentationID$`.
    RepresentationId,
    /// `$Number$`.
    Number,
    /// `$Time$`.
    Time,
    /// `$Bandwidth$`.
    Bandwidth,
    /// `$SubNumber$`.
    SubNumber,
}

impl Identifier {
    fn name(self) -> &'static str {
        match self {
            Identifier::RepresentationId => "RepresentationID",
            Identifier::Number => "Number",
            Identifier::Time => "Time",
            Identifier::Bandwidth => "Bandwidth",
            Identifier::SubNumber => "SubNumber",
        }
    }
}

/// How a number is written: printf's `%0<width><conversion>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format {
    width: usize,
    conversion: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Value(Identifier, Format),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `$Something$` that the standard does not define.
    #[error("unknown identifier ${0}$")]
    UnknownIdentifier(String),
    /// A `$` with no closing `$`.
    #[error("unterminated identifier (a '$' without its closing '$')")]
    Unterminated,
    /// A format tag other than `%0<width>d` and its printf relatives.
    #[error("invalid format tag in ${0}$")]
    BadFormat(String),
    /// An identifier whose value does not exist where it is used.
    #[error("${0}$ cannot be used here")]
    NoValue(&'static str),
}

/// The values a template is expanded with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Values<'a> {
    /// `Representation@id`.
    pub representation_id: &'a str,
    /// `Representation@bandwidth`.
    pub bandwidth: Option<u64>,
    /// The segment's number.
    pub number: Option<u64>,
    /// The segment's time.
    pub time: Option<i64>,
    /// The segment's sub-number.
    pub sub_number: Option<u64>,
}

impl Template {
    /// Compiles a template string, checking every identifier.
    pub fn compile(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('$') {
            literal.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('$').ok_or(TemplateError::Unterminated)?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            if tag.is_empty() {
                literal.push('$'); // `$$` is a literal dollar
                continue;
            }
            let (name, format) = match tag.split_once('%') {
                Some((name, fmt)) => (
                    name,
                    parse_format(fmt).ok_or_else(|| TemplateError::BadFormat(tag.to_string()))?,
                ),
                None => (
                    tag,
                    Format {
                        width: 1,
                        conversion: b'd',
                    },
                ),
            };
            let identifier = match name {
                "RepresentationID" => Identifier::RepresentationId,
                "Number" => Identifier::Number,
                "Time" => Identifier::Time,
                "Bandwidth" => Identifier::Bandwidth,
                "SubNumber" => Identifier::SubNumber,
                _ => return Err(TemplateError::UnknownIdentifier(tag.to_string())),
            };
            if identifier == Identifier::RepresentationId && tag.contains('%') {
                // 23009-1: the format tag shall not be present with $RepresentationID$.
                return Err(TemplateError::BadFormat(tag.to_string()));
            }
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Value(identifier, format));
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Whether the template uses an identifier.
    pub fn uses(&self, identifier: Identifier) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Value(i, _) if *i == identifier))
    }

    /// Expands the template with the values of one segment.
    pub fn expand(&self, values: &Values) -> Result<String, TemplateError> {
        let mut out = String::new();
        self.expand_into(values, &mut out)?;
        Ok(out)
    }

    /// Expands the template into `out` (cleared first), so that one buffer serves every segment.
    pub fn expand_into(&self, values: &Values, out: &mut String) -> Result<(), TemplateError> {
        out.clear();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Value(Identifier::RepresentationId, _) => {
                    out.push_str(values.representation_id)
                }
                Part::Value(identifier, format) => {
                    let value: i128 = match identifier {
                        Identifier::Number => values.number.map(i128::from),
                        Identifier::Time => values.time.map(i128::from),
                        Identifier::Bandwidth => values.bandwidth.map(i128::from),
                        Identifier::SubNumber => values.sub_number.map(i128::from),
                        Identifier::RepresentationId => None,
                    }
                    .ok_or(TemplateError::NoValue(identifier.name()))?;
                    write_number(out, value, *format);
                }
            }
        }
        Ok(())
    }

    /// The template with `$RepresentationID$` and `$Bandwidth$` expanded and each identifier
    /// that varies from segment to segment (`$Number$`, `$Time$`, `$SubNumber$`) written as a
    /// marker: [`MARKER_OPEN`], the identifier's initial, its width and conversion,
    /// [`MARKER_CLOSE`]. Two templates with equal patterns give equal URLs for equal values.
    pub fn pattern(&self, values: &Values) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Value(Identifier::RepresentationId, _) => {
                    out.push_str(values.representation_id)
                }
                Part::Value(Identifier::Bandwidth, format) => {
                    if let Some(b) = values.bandwidth {
                        write_number(&mut out, i128::from(b), *format);
                    }
                }
                Part::Value(identifier, format) => {
                    let _ = write!(
                        out,
                        "{MARKER_OPEN}{}{}{}{MARKER_CLOSE}",
                        &identifier.name()[..1],
                        format.width,
                        format.conversion as char
                    );
                }
            }
        }
        out
    }

    /// The template of a pattern made by [`Template::pattern`] (markers back into identifiers):
    /// expanded with a segment's values, it gives what the pattern stands for. `None` for a
    /// text that holds a malformed marker.
    pub fn from_pattern(text: &str) -> Option<Template> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != MARKER_OPEN {
                literal.push(c);
                continue;
            }
            let identifier = match chars.next()? {
                'N' => Identifier::Number,
                'T' => Identifier::Time,
                'S' => Identifier::SubNumber,
                _ => return None,
            };
            let mut tag = String::new();
            for c in chars.by_ref() {
                if c == MARKER_CLOSE {
                    break;
                }
                tag.push(c);
            }
            let conversion = *tag.as_bytes().last()?;
            let width = tag[..tag.len() - 1].parse().ok()?;
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Value(identifier, Format { width, conversion }));
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Some(Template { parts })
    }

    /// Whether different values of the varying identifiers always give different strings and
    /// no literal can merge with a value: no `%` among the two characters before a varying
    /// identifier (its value could complete a percent-escape), and between two varying
    /// identifiers a literal holding a character that no value can hold (a digit, `-`, or a
    /// hex digit for `%x`).
    pub fn is_unambiguous(&self) -> bool {
        let hex = !self.is_decimal();
        let in_value = |c: char| c == '-' || c.is_ascii_digit() || (hex && c.is_ascii_hexdigit());
        let mut after_value = false;
        let mut before = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => {
                    if text.chars().any(|c| !in_value(c)) {
                        after_value = false;
                    }
                    before = text.chars().rev().take(2).collect();
                }
                Part::Value(identifier, _) if varies(*identifier) => {
                    if after_value || before.contains('%') {
                        return false;
                    }
                    after_value = true;
                    before.clear();
                }
                Part::Value(..) => {}
            }
        }
        true
    }

    /// Whether every varying identifier is written in decimal (`%d`, `%i`, `%u`).
    pub fn is_decimal(&self) -> bool {
        self.parts.iter().all(
            |p| !matches!(p, Part::Value(i, f) if varies(*i) && !matches!(f.conversion, b'd' | b'i' | b'u')),
        )
    }
}

/// Start of an identifier's marker in [`Template::pattern`]: a private-use character, which
/// no value of an identifier can hold, so that the analysis of paths finds the markers.
pub const MARKER_OPEN: char = '\u{E000}';
/// See [`MARKER_OPEN`].
pub const MARKER_CLOSE: char = '\u{E001}';

/// Whether an identifier's value changes from segment to segment.
fn varies(identifier: Identifier) -> bool {
    matches!(
        identifier,
        Identifier::Number | Identifier::Time | Identifier::SubNumber
    )
}

/// `0<width>d` and friends (the part after `%`): flags `0` only, conversions d i u x X o.
fn parse_format(fmt: &str) -> Option<Format> {
    let conversion = *fmt.as_bytes().last()?;
    if !b"diuxXo".contains(&conversion) {
        return None;
    }
    let digits = &fmt[..fmt.len() - 1];
    let digits = digits.strip_prefix('0').unwrap_or(digits);
    let width = if digits.is_empty() {
        1
    } else {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<usize>().ok().filter(|w| *w <= 64)?
    };
    Some(Format { width, conversion })
}

/// Writes `value` zero-padded to the format's width, like C's printf (`%05d` of -5 is `-0005`).
fn write_number(out: &mut String, value: i128, format: Format) {
    let width = format.width;
    let _ = match format.conversion {
        b'x' => write!(out, "{value:0width$x}"),
        b'X' => write!(out, "{value:0width$X}"),
        b'o' => write!(out, "{value:0width$o}"),
        _ => write!(out, "{value:0width$}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(template: &str, values: Values) -> Result<String, TemplateError> {
        Template::compile(template)?.expand(&values)
    }

    #[test]
    fn identifiers_and_widths() {
        let v = Values {
            representation_id: "v1",
            bandwidth: Some(500000),
            number: Some(42),
            time: Some(90000),
            sub_number: Some(2),
        };
        let rows: &[(&str, &str)] = &[
            ("$RepresentationID$/$Number$.m4s", "v1/42.m4s"),
            ("seg-$Number%05d$.m4s", "seg-00042.m4s"),
            ("t$Time%010d$", "t0000090000"),
            ("$Bandwidth$-$Number%3d$", "500000-042"),
            ("price$$$Number$$$", "price$42$"),
            ("$$", "$"),
            ("x$SubNumber$", "x2"),
            ("h$Number%04x$", "h002a"),
            ("plain.mp4", "plain.mp4"),
            ("n$Number%1d$", "n42"),
            ("n$Number%01d$", "n42"),
        ];
        for (template, want) in rows {
            assert_eq!(expand(template, v).as_deref(), Ok(*want), "{template}");
        }
    }

    #[test]
    fn a_pattern_expands_like_its_template() {
        let values = Values {
            representation_id: "v1",
            bandwidth: Some(9),
            number: Some(42),
            time: Some(-7),
            sub_number: Some(2),
        };
        for text in [
            "$RepresentationID$/$Number%05d$-$Time$_$SubNumber$.m4s",
            "b$Bandwidth$/$Time%x$",
            "plain",
        ] {
            let template = Template::compile(text).expect("template");
            let pattern = template.pattern(&values);
            let back = Template::from_pattern(&pattern).expect("pattern");
            assert_eq!(back.expand(&values), template.expand(&values), "{text}");
        }
        assert_eq!(Template::from_pattern("a\u{E000}Q1d\u{E001}"), None);
    }

    #[test]
    fn negative_time_is_padded_like_printf() {
        let v = Values {
            time: Some(-5),
            ..Values::default()
        };
        assert_eq!(expand("$Time%05d$", v).as_deref(), Ok("-0005"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            Template::compile("a$Foo$b"),
            Err(TemplateError::UnknownIdentifier("Foo".into()))
        );
        assert_eq!(
            Template::compile("a$Number"),
            Err(TemplateError::Unterminated)
        );
        assert_eq!(
            Template::compile("$Number%5s$"),
            Err(TemplateError::BadFormat("Number%5s".into()))
        );
        assert_eq!(
            Template::compile("$RepresentationID%05d$"),
            Err(TemplateError::BadFormat("RepresentationID%05d".into()))
        );
        assert_eq!(
            expand("$Number$", Values::default()),
            Err(TemplateError::NoValue("Number"))
        );
        assert_eq!(
            TemplateError::UnknownIdentifier("Foo".into()).to_string(),
            "unknown identifier $Foo$"
        );
    }
}
