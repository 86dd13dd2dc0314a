//! RTP hinting: the hint sample entry's `tims`, and the SDP text of `hnti` (`sdp ` in a
//! track's `udta`, `rtp ` in the movie's).

use super::{Decoded, Full};
use crate::isobmff::Cursor;
use crate::render::Inspector;

/// `tims`: the RTP timescale of a hint track.
pub fn tims(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    ins.uint("timescale", u64::from(c.u32()?));
    Ok(())
}

/// `sdp `: a track's SDP fragment (printed up to its first NUL, as Bento4 does).
pub fn sdp(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    ins.string("sdp_text", c.rest());
    Ok(())
}

/// `rtp ` outside `stsd`: the movie's session description.
pub fn rtp(c: &mut Cursor<'_>, _: &Full, ins: &mut dyn Inspector) -> Decoded {
    let format = c.u32()?;
    ins.fourcc("description_format", format);
    ins.string("sdp_text", c.rest());
    Ok(())
}
