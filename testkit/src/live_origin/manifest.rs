//! The dynamic manifest the origin serves at a given server time.

use std::fmt::Write as _;

use super::timing::{
    available_range, exists, period_end, pto, ticks_to_ns_ceil, window, xs_datetime, xs_duration,
};
use super::{Addressing, EndSignal, LiveConfig, SEC, StreamEnd, Track, UtcScheme};

/// The manifest served at server time `now`. With MPD Patch on, it is the manifest of its
/// publish time: what it says is then a function of `publishTime` alone, as a patch needs.
pub(super) fn current(config: &LiveConfig, tracks: &[Track], base: &str, now: i128) -> String {
    if config.patch_ttl.is_none() {
        return render_mpd(config, tracks, base, now);
    }
    let first = render_mpd(config, tracks, base, now);
    match publish_time_of(&first) {
        Some(publish) if publish < now => render_mpd(config, tracks, base, publish),
        _ => first,
    }
}

/// `MPD@publishTime` of a manifest the origin wrote (Unix ns).
pub(super) fn publish_time_of(mpd: &str) -> Option<i128> {
    let text = mpd.split("publishTime=\"").nth(1)?.split('"').next()?;
    dashget::mpd::time::parse_datetime(text)
        .ok()
        .map(|d| d.instant)
}

/// The manifest at server time `now`.
pub(super) fn render_mpd(config: &LiveConfig, tracks: &[Track], base: &str, now: i128) -> String {
    let rel = now - config.ast;
    let ended = config.end.filter(|e| rel >= i128::from(e.at));
    let is_static = matches!(
        ended,
        Some(StreamEnd {
            signal: EndSignal::Static,
            ..
        })
    );
    let final_duration = matches!(
        ended,
        Some(StreamEnd {
            signal: EndSignal::Static
                | EndSignal::MediaPresentationDuration
                | EndSignal::PeriodDuration,
            ..
        })
    );
    // Periods that have started and are not wholly out of the buffer.
    let visible: Vec<usize> = (0..config.periods.len())
        .filter(|&p| i128::from(config.periods[p].start) <= rel + i128::from(config.announce_ahead))
        .filter(|&p| {
            period_end(config, p).is_none_or(|e| i128::from(e) + i128::from(config.tsbd) >= rel)
                || Some(p) == config.periods.len().checked_sub(1)
        })
        .collect();
    // publishTime: AST for templates; the newest listed segment's availability for lists.
    let mut publish = config.ast;
    let mut body = String::new();
    for &p in &visible {
        let period = &config.periods[p];
        let _ = write!(
            body,
            "  <Period id=\"{}\" start=\"{}\"",
            period.id,
            xs_duration(period.start)
        );
        let last = p + 1 == config.periods.len();
        if last
            && let Some(StreamEnd {
                at,
                signal: EndSignal::PeriodDuration,
            }) = ended
        {
            let _ = write!(body, " duration=\"{}\"", xs_duration(at - period.start));
        }
        body.push_str(">\n");
        for t in tracks {
            let pto = pto(period, t);
            let _ = write!(
                body,
                "    <AdaptationSet id=\"{}\" contentType=\"{}\" mimeType=\"{}\" segmentAlignment=\"true\" startWithSAP=\"1\">\n      <Representation id=\"{}\" codecs=\"{}\" bandwidth=\"{}\">\n",
                t.adaptation_set, t.content_type, t.mime_type, t.id, t.codecs, t.bandwidth
            );
            let range = available_range(config, p, t, now);
            if let Some((_, last)) = range
                && let Some((from, _)) = window(config, p, t, last)
            {
                publish = publish.max(from.min(now));
            }
            let folder = format!("{}/{}", period.id, t.id);
            let mut common = format!(
                "timescale=\"{}\" presentationTimeOffset=\"{pto}\"",
                t.timescale
            );
            if config.ato > 0 {
                let seconds = xs_duration(config.ato);
                let seconds = &seconds[2..seconds.len() - 1];
                let _ = write!(common, " availabilityTimeOffset=\"{seconds}\"");
                if config.low_latency {
                    common.push_str(" availabilityTimeComplete=\"false\"");
                }
            }
            let init = format!("{folder}/init.m4s");
            let entries = |open: bool| timeline(config, p, t, range, pto, open);
            match config.addressing {
                Addressing::Number => {
                    let _ = writeln!(
                        body,
                        "        <SegmentTemplate {common} duration=\"{}\" startNumber=\"{}\" initialization=\"{init}\" media=\"{folder}/n$Number$.m4s\"/>",
                        t.segment_duration, config.start_number
                    );
                }
                Addressing::TimelineTime | Addressing::TimelineOpen => {
                    let open = config.addressing == Addressing::TimelineOpen && !final_duration;
                    let _ = writeln!(
                        body,
                        "        <SegmentTemplate {common} initialization=\"{init}\" media=\"{folder}/t$Time$.m4s\">\n          <SegmentTimeline>\n{}          </SegmentTimeline>\n        </SegmentTemplate>",
                        entries(open)
                    );
                }
                Addressing::TimelineNumber => {
                    let first = range.map_or(0, |r| r.0);
                    let _ = writeln!(
                        body,
                        "        <SegmentTemplate {common} startNumber=\"{}\" initialization=\"{init}\" media=\"{folder}/n$Number$.m4s\">\n          <SegmentTimeline>\n{}          </SegmentTimeline>\n        </SegmentTemplate>",
                        config.start_number + first,
                        entries(false)
                    );
                }
                Addressing::List => {
                    // A list that drops expired entries places them with a SegmentTimeline
                    // (by position alone, its first entry would start the Period).
                    let first = range.map_or(0, |r| r.0);
                    let _ = writeln!(
                        body,
                        "        <SegmentList {common} startNumber=\"{}\">\n          <Initialization sourceURL=\"{init}\"/>\n          <SegmentTimeline>\n{}          </SegmentTimeline>",
                        config.start_number + first,
                        entries(false)
                    );
                    if let Some((first, last)) = range {
                        for k in (first..=last).filter(|&k| exists(config, p, t, k)) {
                            let _ = writeln!(
                                body,
                                "          <SegmentURL media=\"{folder}/n{}.m4s\"/>",
                                config.start_number + k
                            );
                        }
                    }
                    body.push_str("        </SegmentList>\n");
                }
            }
            body.push_str("      </Representation>\n    </AdaptationSet>\n");
        }
        body.push_str("  </Period>\n");
    }
    let mut mpd = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"",
    );
    if config.patch_ttl.is_some() {
        mpd.push_str(" id=\"live\"");
    }
    let _ = write!(
        mpd,
        " type=\"{}\" availabilityStartTime=\"{}\" publishTime=\"{}\"",
        if is_static { "static" } else { "dynamic" },
        xs_datetime(config.ast, 3),
        xs_datetime(publish, 3)
    );
    if let Some(StreamEnd {
        at,
        signal: EndSignal::AvailabilityEndTime(after),
    }) = config.end
    {
        let _ = write!(
            mpd,
            " availabilityEndTime=\"{}\"",
            xs_datetime(config.ast + i128::from(at + after), 3)
        );
    }
    if let Some(StreamEnd {
        at,
        signal: EndSignal::Static | EndSignal::MediaPresentationDuration,
    }) = ended
    {
        let _ = write!(mpd, " mediaPresentationDuration=\"{}\"", xs_duration(at));
    }
    if !is_static {
        if let Some(mup) = config.mup.filter(|_| !final_duration) {
            let _ = write!(mpd, " minimumUpdatePeriod=\"{}\"", xs_duration(mup));
        }
        let _ = write!(
            mpd,
            " timeShiftBufferDepth=\"{}\"",
            xs_duration(config.tsbd)
        );
    }
    let max_segment = tracks
        .iter()
        .map(|t| ticks_to_ns_ceil(t.segment_duration, t.timescale))
        .max()
        .unwrap_or(SEC);
    let _ = writeln!(
        mpd,
        " minBufferTime=\"PT1S\" maxSegmentDuration=\"{}\">",
        xs_duration(max_segment)
    );
    if let Some(location) = &config.location {
        let _ = writeln!(
            mpd,
            "  <Location>{base}/{}</Location>",
            location.trim_start_matches('/')
        );
    }
    if let Some(ttl) = config.patch_ttl {
        let _ = writeln!(
            mpd,
            "  <PatchLocation ttl=\"{ttl}\">{base}/live/patch.mpp?publishTime={}</PatchLocation>",
            xs_datetime(publish, 3).replace(':', "%3A")
        );
    }
    if config.low_latency {
        mpd.push_str("  <ServiceDescription id=\"0\"><Latency referenceId=\"0\" target=\"3000\" min=\"2000\" max=\"6000\"/></ServiceDescription>\n");
    }
    mpd.push_str(&body);
    if config.token.is_some() {
        mpd.push_str("  <EssentialProperty schemeIdUri=\"urn:mpeg:dash:urlparam:2014\" xmlns:up=\"urn:mpeg:dash:schema:urlparam:2014\"><up:UrlQueryInfo useMPDUrlQuery=\"true\"/></EssentialProperty>\n");
    }
    for scheme in &config.utc_timing {
        let (name, value) = match scheme {
            UtcScheme::HttpXsdate => ("http-xsdate", format!("{base}/time/xsdate")),
            UtcScheme::HttpIso => ("http-iso", format!("{base}/time/iso")),
            UtcScheme::HttpHead => ("http-head", format!("{base}/time/head")),
            UtcScheme::HttpNtp => ("http-ntp", format!("{base}/time/ntp")),
            UtcScheme::Direct => ("direct", xs_datetime(now, 3)),
        };
        let _ = writeln!(
            mpd,
            "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:{name}:2014\" value=\"{value}\"/>"
        );
    }
    mpd.push_str("</MPD>\n");
    mpd
}

/// `S` elements for the indices in `range`, one per run of produced segments (an encoder gap
/// starts a new run with its own `@t`); `open`: the last run is `r="-1"`.
pub(super) fn timeline(
    config: &LiveConfig,
    p: usize,
    t: &Track,
    range: Option<(u64, u64)>,
    pto: u64,
    open: bool,
) -> String {
    let mut out = String::new();
    let Some((first, last)) = range else {
        return out;
    };
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for k in first..=last {
        if !exists(config, p, t, k) {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == k => *end = k,
            _ => runs.push((k, k)),
        }
    }
    if config.expanded_timeline {
        for (a, b) in runs {
            for k in a..=b {
                let _ = writeln!(
                    out,
                    "            <S t=\"{}\" d=\"{}\"/>",
                    pto + k * t.segment_duration,
                    t.segment_duration
                );
            }
        }
        return out;
    }
    let count = runs.len();
    for (i, (a, b)) in runs.into_iter().enumerate() {
        // Open only while the encoder produces: during an outage the last S is closed.
        let r = if open && i + 1 == count && b == last {
            "-1".to_string()
        } else {
            (b - a).to_string()
        };
        let _ = writeln!(
            out,
            "            <S t=\"{}\" d=\"{}\" r=\"{r}\"/>",
            pto + a * t.segment_duration,
            t.segment_duration
        );
    }
    out
}
