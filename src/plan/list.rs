//! `dashget --list`: the plan, one line per segment, written straight into a writer as the
//! segments are computed (no line is built as a tree or held).

use std::io::{self, Write};

use super::{Plan, Segment};

/// Writes every segment of `plan`, in plan order: with `json`, one JSON object per line
/// (`period`, `representation`, `kind`, `url`, `range`, `path`, then `number`, `time`,
/// `duration` where known); else one line of text each. Give it a buffered writer.
pub fn write_plan(plan: &Plan, json: bool, out: &mut impl Write) -> io::Result<()> {
    for (rep, segment) in plan.segments() {
        write_segment(&rep.period, &rep.id, &segment, json, out)?;
    }
    out.flush()
}

/// Writes the plan as [`write_plan`] does, but for the representations (by index in
/// `plan.representations`) that `expanded` gives media segments for: those instead of their
/// own (`--expand-index`: a SegmentBase's subsegments).
pub fn write_plan_expanded(
    plan: &Plan,
    expanded: &std::collections::HashMap<usize, Vec<Segment>>,
    json: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    for (i, rep) in plan.representations.iter().enumerate() {
        match expanded.get(&i) {
            None => {
                for segment in rep.segments() {
                    write_segment(&rep.period, &rep.id, &segment, json, out)?;
                }
            }
            Some(media) => {
                for segment in rep
                    .segments()
                    .filter(|s| s.kind != super::SegmentKind::Media)
                {
                    write_segment(&rep.period, &rep.id, &segment, json, out)?;
                }
                for segment in media {
                    write_segment(&rep.period, &rep.id, segment, json, out)?;
                }
            }
        }
    }
    out.flush()
}

/// Writes one line of the list (see [`write_plan`]) for `segment` of Representation
/// `representation` of Period `period`: the one format of `--list`, static or live.
pub fn write_segment(
    period: &str,
    representation: &str,
    segment: &Segment,
    json: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    if json {
        write_json_line(period, representation, segment, out)
    } else {
        write_text_line(period, representation, segment, out)
    }
}

/// A JSON string, escaped as serde_json escapes it.
fn json_string(out: &mut impl Write, text: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(io::Error::other)
}

fn write_json_line(
    period: &str,
    representation: &str,
    segment: &Segment,
    out: &mut impl Write,
) -> io::Result<()> {
    out.write_all(b"{\"period\":")?;
    json_string(out, period)?;
    out.write_all(b",\"representation\":")?;
    json_string(out, representation)?;
    write!(out, ",\"kind\":\"{}\",\"url\":", segment.kind.as_str())?;
    json_string(out, segment.url.as_str())?;
    match segment.range {
        Some(r) => write!(out, ",\"range\":\"{r}\"")?,
        None => out.write_all(b",\"range\":null")?,
    }
    out.write_all(b",\"path\":")?;
    json_string(out, &segment.path.to_string_lossy())?;
    if let Some(n) = segment.number {
        write!(out, ",\"number\":{n}")?;
    }
    if let Some(t) = segment.time {
        write!(out, ",\"time\":{t}")?;
    }
    if let Some(d) = segment.duration {
        write!(out, ",\"duration\":{d}")?;
    }
    out.write_all(b"}\n")
}

fn write_text_line(
    period: &str,
    representation: &str,
    segment: &Segment,
    out: &mut impl Write,
) -> io::Result<()> {
    write!(
        out,
        "{:<6} {:<12} {:<5}",
        period,
        representation,
        segment.kind.as_str()
    )?;
    if let Some(n) = segment.number {
        write!(out, " #{n}")?;
    }
    if let (Some(t), Some(d)) = (segment.time, segment.duration) {
        write!(out, " t={t} d={d}")?;
    }
    write!(out, " {}", segment.url)?;
    if let Some(r) = segment.range {
        write!(out, " bytes={r}")?;
    }
    writeln!(out, " -> {}", segment.path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;

    #[test]
    fn lines_are_those_of_a_json_tree() {
        let xml = r#"<MPD type="static" mediaPresentationDuration="PT2S"><Period id="p &quot;1&quot;"><AdaptationSet><Representation id="v\1"><SegmentTemplate duration="1" initialization="i.mp4" media="é/$Number$.m4s"/></Representation><Representation id="b"><BaseURL>b.mp4</BaseURL><SegmentBase><Initialization range="0-9"/></SegmentBase></Representation></AdaptationSet></Period></MPD>"#;
        let base = Url::parse("https://cdn.example/m.mpd").expect("url");
        let plan = super::super::plan(xml.as_bytes(), &base).expect("plan");
        let mut out = Vec::new();
        write_plan(&plan, true, &mut out).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        // The same lines as serde_json's own rendering of each object.
        let mut expected = String::new();
        for (rep, s) in plan.segments() {
            let mut object = serde_json::json!({
                "period": rep.period, "representation": rep.id, "kind": s.kind.as_str(),
                "url": s.url.as_str(), "range": s.range.map(|r| r.to_string()),
                "path": s.path.to_string_lossy(),
            });
            if let Some(map) = object.as_object_mut() {
                for (key, value) in [
                    ("number", s.number.map(i128::from)),
                    ("time", s.time.map(i128::from)),
                    ("duration", s.duration.map(i128::from)),
                ] {
                    if let Some(v) = value {
                        map.insert(key.into(), serde_json::Value::from(v as i64));
                    }
                }
            }
            expected.push_str(&format!("{object}\n"));
        }
        assert_eq!(text, expected);
        assert_eq!(text.lines().count(), 5);
        assert!(
            text.contains(r#""period":"p \"1\"","representation":"v\\1""#),
            "{text}"
        );
    }
}
