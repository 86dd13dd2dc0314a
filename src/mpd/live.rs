//! What a live presentation needs from its manifest: the MPD's timing attributes, `Location`,
//! `UTCTiming`, and each Representation's `@availabilityTimeOffset`, read by the manifest
//! parser from the same document as the rest of the model ([`super::Mpd::live`]).

use roxmltree::Node;

use super::ParseError;
use super::duration::parse_duration;
use super::time::{DateTime, parse_datetime};

/// A `UTCTiming` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtcTiming {
    /// `@schemeIdUri`.
    pub scheme_id_uri: String,
    /// `@value`.
    pub value: String,
}

/// `@availabilityTimeOffset` as it applies to one Representation (the sum over its levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AvailabilityOffset {
    /// The offset in nanoseconds; `None` for `INF` (every segment available at once).
    pub nanos: Option<u64>,
    /// False when some level says `@availabilityTimeComplete="false"`: a segment requested
    /// early would arrive as it is being written (low-latency chunked delivery).
    pub complete: bool,
}

/// A `PatchLocation`: where a patch to this version of the manifest is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchLocation {
    /// The URL as written (resolved against the manifest's URL).
    pub url: String,
    /// `@ttl`: for how long after `MPD@publishTime` the location serves patches, nanoseconds.
    pub ttl: Option<u64>,
}

/// `ServiceDescription/Latency` (ISO/IEC 23009-1 Annex K): the latency the service aims at,
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceLatency {
    /// `@target`.
    pub target: Option<u64>,
    /// `@min`.
    pub min: Option<u64>,
    /// `@max`.
    pub max: Option<u64>,
}

impl ServiceLatency {
    /// "target 3.5 s (2 s to 6 s)".
    pub fn describe(&self) -> String {
        let s = |ms: u64| format!("{} s", ms as f64 / 1000.0);
        let mut out = match self.target {
            Some(t) => format!("target {}", s(t)),
            None => "no target".to_string(),
        };
        match (self.min, self.max) {
            (Some(a), Some(b)) => out.push_str(&format!(" ({} to {})", s(a), s(b))),
            (Some(a), None) => out.push_str(&format!(" (at least {})", s(a))),
            (None, Some(b)) => out.push_str(&format!(" (at most {})", s(b))),
            (None, None) => {}
        }
        out
    }
}

/// The live attributes of a manifest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveAttributes {
    /// `MPD@availabilityStartTime`.
    pub availability_start_time: Option<DateTime>,
    /// `MPD@publishTime`.
    pub publish_time: Option<DateTime>,
    /// `MPD@availabilityEndTime`.
    pub availability_end_time: Option<DateTime>,
    /// `MPD@minimumUpdatePeriod`, nanoseconds.
    pub minimum_update_period: Option<u64>,
    /// `MPD@timeShiftBufferDepth`, nanoseconds (absent: the buffer reaches back to AST).
    pub time_shift_buffer_depth: Option<u64>,
    /// `MPD@suggestedPresentationDelay`, nanoseconds (a player's hint; a recorder ignores it).
    pub suggested_presentation_delay: Option<u64>,
    /// `MPD@id`.
    pub id: Option<String>,
    /// The first `Location` element: the URL of later refreshes.
    pub location: Option<String>,
    /// `UTCTiming` elements, in document order (the order of preference).
    pub utc_timing: Vec<UtcTiming>,
    /// The first `PatchLocation` (MPD Patch, 5th edition).
    pub patch_location: Option<PatchLocation>,
    /// The latency the service asks for (`ServiceDescription/Latency`), as told to the user.
    pub latency: Option<ServiceLatency>,
    /// Per Period, per AdaptationSet, per Representation (document order): its offset.
    pub offsets: Vec<Vec<Vec<AvailabilityOffset>>>,
}

/// An attribute with a value of the wrong form.
fn bad_attribute(element: String, attribute: &str, message: String) -> ParseError {
    ParseError::BadAttribute {
        element,
        attribute: attribute.into(),
        message,
    }
}

/// Reads the live attributes of the manifest whose root element is `root`.
pub(super) fn read_live(root: Node) -> Result<LiveAttributes, ParseError> {
    let bad = |attribute: &str, message: String| bad_attribute("MPD".into(), attribute, message);
    let date = |name: &str| {
        root.attribute(name)
            .map(|v| parse_datetime(v).map_err(|e| bad(name, e.to_string())))
            .transpose()
    };
    let duration = |name: &str| {
        root.attribute(name)
            .map(|v| parse_duration(v).map_err(|e| bad(name, e.to_string())))
            .transpose()
    };
    let mut attributes = LiveAttributes {
        availability_start_time: date("availabilityStartTime")?,
        publish_time: date("publishTime")?,
        availability_end_time: date("availabilityEndTime")?,
        minimum_update_period: duration("minimumUpdatePeriod")?,
        time_shift_buffer_depth: duration("timeShiftBufferDepth")?,
        suggested_presentation_delay: duration("suggestedPresentationDelay")?,
        id: root.attribute("id").map(|v| v.trim().to_string()),
        location: children(root, "Location")
            .next()
            .and_then(|l| l.text())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        utc_timing: children(root, "UTCTiming")
            .map(|u| UtcTiming {
                scheme_id_uri: u.attribute("schemeIdUri").unwrap_or("").trim().to_string(),
                value: u.attribute("value").unwrap_or("").trim().to_string(),
            })
            .collect(),
        patch_location: children(root, "PatchLocation").next().and_then(|p| {
            let url = p.text().map(str::trim).filter(|t| !t.is_empty())?;
            Some(PatchLocation {
                url: url.to_string(),
                ttl: p.attribute("ttl").and_then(|t| seconds_to_nanos(t.trim())),
            })
        }),
        latency: children(root, "ServiceDescription")
            .flat_map(|d| children(d, "Latency"))
            .next()
            .map(|l| {
                let ms = |name: &str| l.attribute(name).and_then(|v| v.trim().parse().ok());
                ServiceLatency {
                    target: ms("target"),
                    min: ms("min"),
                    max: ms("max"),
                }
            }),
        offsets: Vec::new(),
    };
    let top = level_offset(root, "MPD")?;
    for (p, period) in children(root, "Period").enumerate() {
        let at = format!("MPD/Period[{p}]");
        let period_offset = top.add(level_offset(period, &at)?);
        let mut sets = Vec::new();
        for (a, set) in children(period, "AdaptationSet").enumerate() {
            let at = format!("{at}/AdaptationSet[{a}]");
            let set_offset = period_offset.add(level_offset(set, &at)?);
            let mut reps = Vec::new();
            for (r, rep) in children(set, "Representation").enumerate() {
                let at = format!("{at}/Representation[{r}]");
                reps.push(set_offset.add(level_offset(rep, &at)?));
            }
            sets.push(reps);
        }
        attributes.offsets.push(sets);
    }
    Ok(attributes)
}

impl AvailabilityOffset {
    fn add(self, other: AvailabilityOffset) -> AvailabilityOffset {
        AvailabilityOffset {
            nanos: self
                .nanos
                .zip(other.nanos)
                .and_then(|(a, b)| a.checked_add(b)),
            complete: self.complete && other.complete,
        }
    }
}

/// The offset one level adds: its first BaseURL's and its segment information element's
/// (IOP: the sum of all `@availabilityTimeOffset` values that apply).
fn level_offset(node: Node, at: &str) -> Result<AvailabilityOffset, ParseError> {
    let mut offset = AvailabilityOffset {
        nanos: Some(0),
        complete: true,
    };
    let carriers = children(node, "BaseURL").take(1).chain(
        node.children()
            .filter(|c| {
                c.is_element()
                    && matches!(
                        c.tag_name().name(),
                        "SegmentTemplate" | "SegmentList" | "SegmentBase"
                    )
            })
            .take(1),
    );
    for carrier in carriers {
        let name = carrier.tag_name().name();
        if let Some(value) = carrier.attribute("availabilityTimeOffset") {
            let value = value.trim();
            let nanos = if value.eq_ignore_ascii_case("INF") {
                None
            } else {
                Some(parse_duration(value).map_err(|_| {
                    bad_attribute(
                        format!("{at}/{name}"),
                        "availabilityTimeOffset",
                        format!("\"{value}\" is not a non-negative number of seconds or INF"),
                    )
                })?)
            };
            offset = offset.add(AvailabilityOffset {
                nanos,
                complete: true,
            });
        }
        if carrier.attribute("availabilityTimeComplete").map(str::trim) == Some("false") {
            offset.complete = false;
        }
    }
    Ok(offset)
}

/// A non-negative number of seconds (`xs:double`), in nanoseconds.
fn seconds_to_nanos(text: &str) -> Option<u64> {
    let seconds: f64 = text.parse().ok()?;
    (0.0..1e10)
        .contains(&seconds)
        .then_some((seconds * 1e9) as u64)
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_live_attributes(bytes: &[u8]) -> Result<LiveAttributes, ParseError> {
        super::super::parse_mpd(bytes).map(|mpd| mpd.live)
    }

    #[test]
    fn reads_timing_attributes_and_sums_offsets() {
        let mpd = br#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" id="live"
     availabilityStartTime="1970-01-01T00:00:00Z" publishTime="2026-11-28T22:00:00.5Z"
     minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT1M" availabilityEndTime="2026-11-29T00:00:00Z">
  <Location> http://example.com/live.mpd </Location>
  <PatchLocation ttl="60"> patch.mpp?publishTime=2026 </PatchLocation>
  <ServiceDescription id="0"><Latency referenceId="0" target="3500" min="2000" max="6000"/></ServiceDescription>
  <BaseURL availabilityTimeOffset="0.5">http://cdn/</BaseURL>
  <Period id="a">
    <AdaptationSet>
      <SegmentTemplate availabilityTimeOffset="1.25" media="$Number$"/>
      <Representation id="v1"/>
      <Representation id="v2"><SegmentTemplate availabilityTimeOffset="INF"/></Representation>
      <Representation id="v3"><BaseURL availabilityTimeComplete="false">x/</BaseURL></Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-head:2014" value="http://t/"/>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2026-11-28T22:00:01Z"/>
</MPD>"#;
        let a = read_live_attributes(mpd).unwrap();
        assert_eq!(
            a.patch_location,
            Some(PatchLocation {
                url: "patch.mpp?publishTime=2026".into(),
                ttl: Some(60_000_000_000)
            })
        );
        assert_eq!(
            a.latency.map(|l| l.describe()).as_deref(),
            Some("target 3.5 s (2 s to 6 s)")
        );
        assert_eq!(a.availability_start_time.map(|d| d.instant), Some(0));
        assert_eq!(
            a.publish_time.map(|d| d.instant),
            Some(1_795_903_200_500_000_000)
        );
        assert_eq!(a.minimum_update_period, Some(2_000_000_000));
        assert_eq!(a.time_shift_buffer_depth, Some(60_000_000_000));
        assert!(a.availability_end_time.is_some());
        assert_eq!(a.location.as_deref(), Some("http://example.com/live.mpd"));
        assert_eq!(a.id.as_deref(), Some("live"));
        assert_eq!(a.utc_timing.len(), 2);
        assert_eq!(a.utc_timing[1].value, "2026-11-28T22:00:01Z");
        let reps = &a.offsets[0][0];
        assert_eq!(
            reps[0],
            AvailabilityOffset {
                nanos: Some(1_750_000_000),
                complete: true
            }
        );
        assert_eq!(reps[1].nanos, None);
        assert_eq!(reps[2].nanos, Some(1_750_000_000));
        assert!(!reps[2].complete);
    }

    #[test]
    fn bad_values_are_named() {
        let err = read_live_attributes(br#"<MPD type="dynamic" availabilityStartTime="soon"/>"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("MPD@availabilityStartTime: invalid date-time")
        );
        let err = read_live_attributes(
            br#"<MPD type="dynamic"><Period><SegmentTemplate availabilityTimeOffset="-1"/></Period></MPD>"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("MPD/Period[0]/SegmentTemplate@availabilityTimeOffset")
        );
        assert!(read_live_attributes(b"<MPD>").is_err());
        let undeclared = br#"<MPD availabilityStartTime="1970-01-01T00:00:00Z"><Period><EventStream><Event><scte35:Signal/></Event></EventStream></Period></MPD>"#;
        assert_eq!(
            read_live_attributes(undeclared)
                .unwrap()
                .availability_start_time
                .map(|d| d.instant),
            Some(0)
        );
    }
}
