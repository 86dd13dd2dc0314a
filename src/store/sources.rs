//! Where each manifest of an output folder came from (`.dashget/sources.json`), so that
//! mp4dump re-plans a saved manifest against the URL dashget planned it with, and finds
//! every segment at the very path dashget wrote it to.

use std::collections::BTreeMap;
use std::path::Path;

use url::Url;

/// The metadata folder inside an output folder.
pub use super::journal::JOURNAL_DIR as META_DIR;
const SOURCES: &str = "sources.json";

/// The URL recorded for the manifest `file_name` of `folder`, if any.
pub fn recorded_manifest_url(folder: &Path, file_name: &str) -> Option<Url> {
    let bytes = std::fs::read(folder.join(META_DIR).join(SOURCES)).ok()?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&bytes).ok()?;
    Url::parse(map.get(file_name)?).ok()
}

/// Records that the manifest `file_name` of `folder` was planned against `url`
/// (written to a temporary file and renamed, so a crash never leaves it half written).
pub fn record_manifest_url(folder: &Path, file_name: &str, url: &Url) -> std::io::Result<()> {
    let dir = folder.join(META_DIR);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(SOURCES);
    let mut map: BTreeMap<String, String> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    map.insert(file_name.to_string(), url.to_string());
    let tmp = dir.join(format!("{SOURCES}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&map).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_reads_back() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(recorded_manifest_url(dir.path(), "m.mpd"), None);
        let url = Url::parse("https://cdn.example/show/m.mpd").expect("url");
        record_manifest_url(dir.path(), "m.mpd", &url).expect("record");
        record_manifest_url(
            dir.path(),
            "other.mpd",
            &Url::parse("https://x/o.mpd").expect("u"),
        )
        .expect("record");
        assert_eq!(recorded_manifest_url(dir.path(), "m.mpd"), Some(url));
    }
}
