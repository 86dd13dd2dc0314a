//! What the checks need from the manifest beyond the plan: the addressing mode,
//! `@presentationTimeOffset`, whether `@timescale` is written, `@startWithSAP`,
//! `@minBufferTime`. Read from the manifest's XML, level by level as the plan inherits.

use roxmltree::{Document, Node};

use crate::mpd::duration::parse_duration;
use crate::plan::period_timings;

/// The attributes of one Representation the checks compare against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepresentationTiming {
    /// `@presentationTimeOffset` (0 when absent), in the representation's timescale.
    pub presentation_time_offset: u64,
    /// Whether a `@timescale` is written at some level.
    pub explicit_timescale: bool,
    /// Whether the segments are addressed by a `SegmentTimeline` (explicit addressing).
    pub timeline: bool,
    /// Whether the segments are addressed by `@duration` (simple addressing).
    pub simple: bool,
    /// `@startWithSAP` of the Representation, else of its AdaptationSet.
    pub start_with_sap: u64,
    /// The Period's duration, in nanoseconds, where known.
    pub period_duration: Option<u64>,
    /// What the manifest says of the media (the checks `resolution`, `frame-rate`, …).
    pub promises: Promises,
    /// Holes a recording made by dashget names (`SupplementalProperty` of
    /// [`crate::live::recording::GAP_SCHEME`]): where the media stops and for how long, in
    /// the Representation's timescale; the segment before each is stretched over it.
    pub holes: Vec<(u64, u64)>,
}

/// What a Representation's attributes and descriptors say of its media: each from the
/// Representation, else its AdaptationSet (ISO/IEC 23009-1 §5.3.7 common attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Promises {
    /// `@width`, `@height`.
    pub width: Option<u64>,
    /// Pixels.
    pub height: Option<u64>,
    /// `@frameRate` as a fraction.
    pub frame_rate: Option<(u64, u64)>,
    /// `@sar` as `h:v`.
    pub sar: Option<(u64, u64)>,
    /// `@audioSamplingRate` (the first value when two are given).
    pub audio_sampling_rate: Option<u64>,
    /// `AudioChannelConfiguration`: scheme and value.
    pub channels: Option<(String, String)>,
    /// `ContentProtection@cenc:default_KID` values, as written.
    pub default_kids: Vec<String>,
    /// `ContentProtection/cenc:pssh`: the ContentProtection's `@schemeIdUri` and the box,
    /// base64 as written.
    pub pssh: Vec<(String, String)>,
    /// `AdaptationSet@segmentAlignment` or `@subsegmentAlignment` is true (or a number).
    pub aligned: bool,
}

/// A Period, as the manifest places it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodFacts {
    /// `@id`.
    pub id: Option<String>,
    /// Its start, nanoseconds from the presentation's start, where known.
    pub start: Option<u64>,
    /// Its duration, nanoseconds, where known.
    pub duration: Option<u64>,
}

/// The manifest's extra attributes, per (Period index, AdaptationSet index, Representation id).
#[derive(Debug, Clone, Default)]
pub struct ManifestFacts {
    /// `MPD@type` is `dynamic`.
    pub dynamic: bool,
    /// `MPD@profiles`, one by one.
    pub profiles: Vec<String>,
    /// `MPD@mediaPresentationDuration`, in nanoseconds.
    pub duration: Option<u64>,
    /// The Periods, in order, as they are timed (`@start`, else after the previous one).
    pub periods: Vec<PeriodFacts>,
    /// `MPD@minBufferTime`, in nanoseconds.
    pub min_buffer_time: Option<u64>,
    /// `MPD@maxSegmentDuration`, in nanoseconds.
    pub max_segment_duration: Option<u64>,
    representations: Vec<((usize, usize, String), RepresentationTiming)>,
}

impl ManifestFacts {
    /// Reads them from the manifest's bytes (a manifest the plan accepted; anything unreadable
    /// is left at its default).
    pub fn read(bytes: &[u8]) -> ManifestFacts {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return ManifestFacts::default();
        };
        let text = text.trim_start_matches('\u{feff}');
        let Ok(doc) = Document::parse(text) else {
            return ManifestFacts::default();
        };
        let root = doc.root_element();
        let timings = crate::mpd::parse_mpd(bytes)
            .map(|mpd| period_timings(&mpd))
            .unwrap_or_default();
        let durations: Vec<Option<u64>> = timings.iter().map(|t| t.duration).collect();
        let mut facts = ManifestFacts {
            dynamic: root.attribute("type") == Some("dynamic"),
            profiles: root
                .attribute("profiles")
                .map(|p| {
                    p.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            duration: root
                .attribute("mediaPresentationDuration")
                .and_then(|d| parse_duration(d).ok()),
            periods: children(root, "Period")
                .enumerate()
                .map(|(p, period)| PeriodFacts {
                    id: period.attribute("id").map(str::to_string),
                    start: timings.get(p).and_then(|t| t.start),
                    duration: timings.get(p).and_then(|t| t.duration),
                })
                .collect(),
            min_buffer_time: root
                .attribute("minBufferTime")
                .and_then(|d| parse_duration(d).ok()),
            max_segment_duration: root
                .attribute("maxSegmentDuration")
                .and_then(|d| parse_duration(d).ok()),
            representations: Vec::new(),
        };
        for (p, period) in children(root, "Period").enumerate() {
            for (a, set) in children(period, "AdaptationSet").enumerate() {
                for (r, rep) in children(set, "Representation").enumerate() {
                    let id = rep
                        .attribute("id")
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{a}.{r}"));
                    let levels = [rep, set, period];
                    let timing = RepresentationTiming {
                        presentation_time_offset: inherited(&levels, "presentationTimeOffset")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                        explicit_timescale: inherited(&levels, "timescale").is_some(),
                        timeline: levels.iter().any(|l| {
                            segment_elements(*l).any(|s| children(s, "SegmentTimeline").count() > 0)
                        }),
                        simple: inherited(&levels, "duration").is_some(),
                        start_with_sap: [rep, set]
                            .iter()
                            .find_map(|n| n.attribute("startWithSAP"))
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                        period_duration: durations.get(p).copied().flatten(),
                        promises: promises(rep, set),
                        holes: holes(rep),
                    };
                    facts.representations.push(((p, a, id), timing));
                }
            }
        }
        facts
    }

    /// The attributes of the Representation `id` of AdaptationSet `set` of Period `period`.
    pub fn representation(&self, period: usize, set: usize, id: &str) -> RepresentationTiming {
        self.representations
            .iter()
            .find(|((p, a, i), _)| *p == period && *a == set && i == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }
}

/// The holes a recording names on a Representation: `t=TIME,d=DURATION` values.
fn holes(rep: Node) -> Vec<(u64, u64)> {
    children(rep, "SupplementalProperty")
        .filter(|p| p.attribute("schemeIdUri") == Some(crate::live::recording::GAP_SCHEME))
        .filter_map(|p| {
            let value = p.attribute("value")?;
            let mut time = None;
            let mut duration = None;
            for part in value.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", v)) => time = v.trim().parse().ok(),
                    Some(("d", v)) => duration = v.trim().parse().ok(),
                    _ => {}
                }
            }
            Some((time?, duration?))
        })
        .collect()
}

fn promises(rep: Node, set: Node) -> Promises {
    let attribute = |name: &str| rep.attribute(name).or_else(|| set.attribute(name));
    let number = |name: &str| attribute(name).and_then(|v| v.trim().parse::<u64>().ok());
    let pair = |name: &str, separator: char| {
        let text = attribute(name)?;
        let (a, b) = text.split_once(separator).unwrap_or((text, "1"));
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    let channels = [rep, set].into_iter().find_map(|level| {
        children(level, "AudioChannelConfiguration")
            .next()
            .map(|c| {
                (
                    c.attribute("schemeIdUri").unwrap_or("").to_string(),
                    c.attribute("value").unwrap_or("").to_string(),
                )
            })
    });
    let protection: Vec<Node> = [rep, set]
        .into_iter()
        .flat_map(|level| children(level, "ContentProtection"))
        .collect();
    let default_kids = protection
        .iter()
        .flat_map(|c| c.attributes())
        .filter(|a| a.name() == "default_KID")
        .map(|a| a.value().to_string())
        .collect();
    let pssh = protection
        .iter()
        .flat_map(|c| {
            let scheme = c.attribute("schemeIdUri").unwrap_or("").to_string();
            children(*c, "pssh").filter_map(move |p| {
                Some((
                    scheme.clone(),
                    p.text()?.split_whitespace().collect::<String>(),
                ))
            })
        })
        .collect();
    let aligned = ["segmentAlignment", "subsegmentAlignment"]
        .iter()
        .any(|a| set.attribute(*a).is_some_and(|v| v != "false" && v != "0"));
    Promises {
        width: number("width"),
        height: number("height"),
        frame_rate: pair("frameRate", '/'),
        sar: pair("sar", ':'),
        audio_sampling_rate: attribute("audioSamplingRate")
            .and_then(|v| v.split_whitespace().next()?.parse().ok()),
        channels,
        default_kids,
        pssh,
        aligned,
    }
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn segment_elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|c| {
        c.is_element()
            && matches!(
                c.tag_name().name(),
                "SegmentTemplate" | "SegmentList" | "SegmentBase"
            )
    })
}

/// An attribute of the segment information, from the lowest level that writes it.
fn inherited<'a>(levels: &[Node<'a, '_>], attribute: &str) -> Option<&'a str> {
    levels
        .iter()
        .find_map(|l| segment_elements(*l).find_map(|s| s.attribute(attribute)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_inherit_from_the_lowest_level_that_writes_them() {
        let mpd = br#"<MPD minBufferTime="PT1.5S"><Period>
          <SegmentTemplate timescale="90000" presentationTimeOffset="900"/>
          <AdaptationSet startWithSAP="1">
            <SegmentTemplate duration="180000"/>
            <Representation id="a"/>
            <Representation id="b" startWithSAP="2">
              <SegmentTemplate presentationTimeOffset="5"><SegmentTimeline><S d="1"/></SegmentTimeline></SegmentTemplate>
            </Representation>
          </AdaptationSet>
          <AdaptationSet><Representation id="c"/></AdaptationSet>
        </Period></MPD>"#;
        let facts = ManifestFacts::read(mpd);
        assert_eq!(facts.min_buffer_time, Some(1_500_000_000));
        assert_eq!(
            (facts.dynamic, facts.profiles.len(), facts.duration),
            (false, 0, None)
        );
        assert_eq!(
            facts.periods,
            vec![PeriodFacts {
                id: None,
                start: Some(0),
                duration: None
            }]
        );
        let a = facts.representation(0, 0, "a");
        assert_eq!(
            a,
            RepresentationTiming {
                presentation_time_offset: 900,
                explicit_timescale: true,
                timeline: false,
                simple: true,
                start_with_sap: 1,
                period_duration: None,
                promises: Promises::default(),
                holes: Vec::new(),
            }
        );
        let b = facts.representation(0, 0, "b");
        assert_eq!(
            (b.presentation_time_offset, b.timeline, b.start_with_sap),
            (5, true, 2)
        );
        let c = facts.representation(0, 1, "c");
        assert_eq!(
            (c.simple, c.start_with_sap, c.explicit_timescale),
            (false, 0, true)
        );
        assert_eq!(
            facts.representation(3, 0, "x"),
            RepresentationTiming::default()
        );
    }
}
