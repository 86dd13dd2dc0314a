//! What a live recording keeps in memory does not grow with its length: the heap in use (counted
//! by this binary's allocator, exactly, so no timing or RSS noise) after 1,000 recorded segments
//! per track is what it is after 100,000, and rendering the manifest leaves nothing behind.
//! One test in this binary, so that nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use dashget::live::recording::{RecordedSegment, Recording, RepresentationInfo};

struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn info(id: &str, timescale: u64) -> RepresentationInfo {
    RepresentationInfo {
        period: "p0".into(),
        period_start: 0,
        adaptation_set: id.into(),
        adaptation_set_index: usize::from(id == "audio"),
        content_type: Some(id.into()),
        id: id.into(),
        mime_type: Some(format!("{id}/mp4")),
        codecs: None,
        bandwidth: Some(1_000_000),
        timescale,
        presentation_time_offset: 0,
        set_source: Default::default(),
        source: Default::default(),
    }
}

/// Segment `n` of a track: video of 2 s at 90 kHz, named by number; audio of AAC frames in
/// ~2-s segments (96256 and 95232 ticks at 48 kHz, alternating), named by time.
fn segment(track: &str, n: u64) -> RecordedSegment {
    let (time, duration, timescale, path) = if track == "video" {
        let d = 180_000u64;
        (n * d, d, 90_000u64, format!("video/{}.m4s", n + 1))
    } else {
        let time = n / 2 * (96_256 + 95_232) + if n % 2 == 1 { 96_256 } else { 0 };
        let d = if n.is_multiple_of(2) { 96_256 } else { 95_232 };
        (time, d, 48_000, format!("audio/t{time}.m4s"))
    };
    let ns = |ticks: u64| i128::from(ticks) * 1_000_000_000 / i128::from(timescale);
    RecordedSegment {
        time: time as i64,
        duration,
        number: n + 1,
        path,
        start: ns(time),
        end: (u128::from(time + duration) * 1_000_000_000).div_ceil(u128::from(timescale)) as i128,
    }
}

#[test]
fn a_recording_holds_the_same_memory_at_any_length() {
    let (video, audio) = (info("video", 90_000), info("audio", 48_000));
    let mut recording = Recording::new();
    let mut in_use_at = Vec::with_capacity(2);
    let mut rendered = Vec::with_capacity(2);
    for n in 0..100_000u64 {
        recording.add_segment_of(&video, segment("video", n));
        recording.add_segment_of(&audio, segment("audio", n));
        if n + 1 == 1_000 || n + 1 == 100_000 {
            // (Once first, for what the first render initialises for good.)
            drop(recording.render());
            let before = IN_USE.load(Ordering::Relaxed);
            let text = recording.render();
            let length = text.len();
            drop(text);
            assert_eq!(
                IN_USE.load(Ordering::Relaxed),
                before,
                "render leaves nothing"
            );
            rendered.push(length);
            in_use_at.push(before);
        }
    }
    assert_eq!(recording.segment_count(), 200_000);
    // The same heap after 100 times the segments: a few bytes of counters differ at most.
    let (short, long) = (in_use_at[0], in_use_at[1]);
    assert!(
        (long - short).abs() <= 64,
        "{short} bytes in use after 1,000 segments per track, {long} after 100,000"
    );
    // The manifest: one S for the video; the audio's alternating durations take an S each pair.
    eprintln!(
        "heap in use: {short} B after 1,000 segments per track, {long} B after 100,000; manifest {} B and {} B",
        rendered[0], rendered[1]
    );
}
