//! MPD Patch as the origin serves it: the difference between the manifest published at the
//! `publishTime` a client names and the current one, written as the standard's operations the
//! way livesim2 writes them (attributes replaced, added or removed; Periods removed and added
//! by id; a timeline's expired `S` removed from its head and new ones added at its tail).

use std::collections::HashMap;
use std::fmt::Write as _;

use roxmltree::{Document, Node};

use super::manifest::{current, publish_time_of, render_mpd};
use super::timing::xs_datetime;
use super::{Answer, SEC, State};

/// The answer to `live/patch.mpp?QUERY` at server time `now`.
pub(super) fn answer(s: &mut State, query: &str, now: i128) -> Answer {
    let Some(from) = query
        .split('&')
        .find_map(|p| p.strip_prefix("publishTime="))
        .map(|v| v.replace("%3A", ":").replace("%3a", ":"))
        .and_then(|v| dashget::mpd::time::parse_datetime(&v).ok())
        .map(|d| d.instant)
    else {
        return Answer::status(400);
    };
    let ttl = s.config.patch_ttl.unwrap_or(0);
    if now > from + i128::from(ttl) * i128::from(SEC) {
        return Answer::status(410);
    }
    let at = now - i128::from(s.config.manifest_lag);
    let new = current(&s.config, &s.tracks, &s.base, at);
    let old = render_mpd(&s.config, &s.tracks, &s.base, from);
    if publish_time_of(&old) != Some(from) {
        // Never published at that instant.
        return Answer::status(404);
    }
    if publish_time_of(&new) == Some(from) {
        return Answer::status(425);
    }
    let mut original = from;
    if s.wrong_patches > 0 {
        s.wrong_patches -= 1;
        original -= i128::from(SEC);
    }
    match diff(&old, &new, original) {
        Some(patch) => Answer::ok(patch.into_bytes(), "application/dash-patch+xml"),
        None => Answer::status(500),
    }
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// An element as the origin writes it, on one line (for comparing and for the patch).
fn text(node: Node, source: &str) -> String {
    source[node.range()].to_string()
}

/// The patch from `old` to `new`, claiming to apply to the version published at `original`.
fn diff(old: &str, new: &str, original: i128) -> Option<String> {
    let (a, b) = (Document::parse(old).ok()?, Document::parse(new).ok()?);
    let (ma, mb) = (a.root_element(), b.root_element());
    let mut ops = String::new();
    attributes(&mut ops, "/MPD", ma, mb);
    if let (Some(pa), Some(pb)) = (
        children(ma, "PatchLocation").next(),
        children(mb, "PatchLocation").next(),
    ) {
        let _ = writeln!(
            ops,
            "  <replace sel=\"/MPD/PatchLocation[1]\">{}</replace>",
            text(pb, new)
        );
        let _ = pa;
    }
    let old_periods: Vec<Node> = children(ma, "Period").collect();
    let new_periods: Vec<Node> = children(mb, "Period").collect();
    let id = |p: &Node| p.attribute("id").unwrap_or("").to_string();
    let new_ids: Vec<String> = new_periods.iter().map(id).collect();
    let old_ids: Vec<String> = old_periods.iter().map(id).collect();
    for p in &old_periods {
        if !new_ids.contains(&id(p)) {
            let _ = writeln!(ops, "  <remove sel=\"/MPD/Period[@id='{}']\"/>", id(p));
        }
    }
    let mut last_kept: Option<String> = None;
    for p in &new_periods {
        let pid = id(p);
        match old_periods.iter().find(|o| id(o) == pid) {
            Some(o) => {
                period(&mut ops, &pid, *o, *p);
                last_kept = Some(pid);
            }
            None => {
                let (sel, pos) = match &last_kept {
                    Some(prev) => (format!("/MPD/Period[@id='{prev}']"), "after"),
                    None if !old_ids.iter().any(|o| new_ids.contains(o)) => {
                        ("/MPD/UTCTiming[1]".to_string(), "before")
                    }
                    None => {
                        let first = new_ids.iter().find(|i| old_ids.contains(i))?;
                        (format!("/MPD/Period[@id='{first}']"), "before")
                    }
                };
                let _ = writeln!(
                    ops,
                    "  <add sel=\"{sel}\" pos=\"{pos}\">{}</add>",
                    text(*p, new)
                );
                last_kept = Some(pid);
            }
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<Patch xmlns=\"urn:mpeg:dash:schema:mpd-patch:2020\" mpdId=\"{}\" originalPublishTime=\"{}\" publishTime=\"{}\">",
        mb.attribute("id").unwrap_or(""),
        xs_datetime(original, 3),
        mb.attribute("publishTime").unwrap_or("")
    );
    out.push_str(&ops);
    out.push_str("</Patch>\n");
    Some(out)
}

/// Operations for the attributes of the element at `sel` that differ.
fn attributes(ops: &mut String, sel: &str, a: Node, b: Node) {
    for attr in b.attributes() {
        match a.attribute(attr.name()) {
            Some(v) if v == attr.value() => {}
            Some(_) => {
                let _ = writeln!(
                    ops,
                    "  <replace sel=\"{sel}/@{}\">{}</replace>",
                    attr.name(),
                    attr.value()
                );
            }
            None => {
                let _ = writeln!(
                    ops,
                    "  <add sel=\"{sel}\" type=\"@{}\">{}</add>",
                    attr.name(),
                    attr.value()
                );
            }
        }
    }
    for attr in a.attributes() {
        if b.attribute(attr.name()).is_none() {
            let _ = writeln!(ops, "  <remove sel=\"{sel}/@{}\"/>", attr.name());
        }
    }
}

/// Operations for a Period both versions list.
fn period(ops: &mut String, pid: &str, a: Node, b: Node) {
    let sel = format!("/MPD/Period[@id='{pid}']");
    attributes(ops, &sel, a, b);
    for set_b in children(b, "AdaptationSet") {
        let set_id = set_b.attribute("id").unwrap_or("");
        let Some(set_a) = children(a, "AdaptationSet").find(|s| s.attribute("id") == Some(set_id))
        else {
            continue;
        };
        for rep_b in children(set_b, "Representation") {
            let rep_id = rep_b.attribute("id").unwrap_or("");
            let Some(rep_a) =
                children(set_a, "Representation").find(|r| r.attribute("id") == Some(rep_id))
            else {
                continue;
            };
            let (Some(ta), Some(tb)) = (
                children(rep_a, "SegmentTemplate").next(),
                children(rep_b, "SegmentTemplate").next(),
            ) else {
                continue;
            };
            let template = format!(
                "{sel}/AdaptationSet[@id='{set_id}']/Representation[@id='{rep_id}']/SegmentTemplate"
            );
            attributes(ops, &template, ta, tb);
            if let (Some(la), Some(lb)) = (
                children(ta, "SegmentTimeline").next(),
                children(tb, "SegmentTimeline").next(),
            ) {
                timeline(ops, &format!("{template}/SegmentTimeline"), la, lb);
            }
        }
    }
}

/// A timeline's change: the longest run of `S` both versions share stays; what is before it
/// is removed and prepended, what is after it removed and appended.
fn timeline(ops: &mut String, sel: &str, a: Node, b: Node) {
    let key = |n: Node| {
        let mut attrs: Vec<String> = n
            .attributes()
            .map(|x| format!("{}={}", x.name(), x.value()))
            .collect();
        attrs.sort();
        attrs.join(" ")
    };
    let old: Vec<String> = children(a, "S").map(key).collect();
    let new: Vec<String> = children(b, "S").map(key).collect();
    let mut first_in_new: HashMap<&str, usize> = HashMap::new();
    for (j, s) in new.iter().enumerate().rev() {
        first_in_new.insert(s, j);
    }
    // (start in old, start in new, length)
    let mut best = (0, 0, 0);
    let mut i = 0;
    while i < old.len() {
        if let Some(&j) = first_in_new.get(old[i].as_str()) {
            let mut len = 0;
            while i + len < old.len() && j + len < new.len() && old[i + len] == new[j + len] {
                len += 1;
            }
            if len > best.2 {
                best = (i, j, len);
            }
            i += len.max(1);
        } else {
            i += 1;
        }
    }
    let (i0, j0, len) = best;
    let s_of = |n: Node| {
        let mut out = String::from("<S");
        for x in n.attributes() {
            let _ = write!(out, " {}=\"{}\"", x.name(), x.value());
        }
        out.push_str("/>");
        out
    };
    let new_nodes: Vec<Node> = children(b, "S").collect();
    let head = if len == 0 { old.len() } else { i0 };
    for _ in 0..head {
        let _ = writeln!(ops, "  <remove sel=\"{sel}/S[1]\"/>");
    }
    if len > 0 {
        if j0 > 0 {
            let added: String = new_nodes[..j0].iter().map(|n| s_of(*n)).collect();
            let _ = writeln!(ops, "  <add sel=\"{sel}\" pos=\"prepend\">{added}</add>");
        }
        for _ in i0 + len..old.len() {
            let _ = writeln!(ops, "  <remove sel=\"{sel}/S[{}]\"/>", j0 + len + 1);
        }
    }
    let tail_from = if len == 0 { 0 } else { j0 + len };
    if tail_from < new_nodes.len() {
        let added: String = new_nodes[tail_from..].iter().map(|n| s_of(*n)).collect();
        let _ = writeln!(ops, "  <add sel=\"{sel}\">{added}</add>");
    }
}
