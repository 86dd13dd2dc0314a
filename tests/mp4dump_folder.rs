//! `mp4dump -d DIR`: whole representations of real presentations, each `#` section equal to
//! the dump of that one file; skips, missing files, manifest choice, ids with slashes, --concat.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(mode: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dash")
        .join(mode)
}

/// A copy of a fixture presentation in a temporary folder.
fn copy_of(mode: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(&fixture(mode), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn mp4dump() -> Command {
    Command::cargo_bin("mp4dump").expect("binary")
}

/// Splits a representation dump into its `#` sections: (header line, body).
fn sections(dump: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in dump.lines() {
        if line.starts_with('#') {
            out.push((line.to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        } else {
            panic!("text before the first # line: {line}");
        }
    }
    out
}

#[test]
fn every_section_is_the_dump_of_its_file() {
    for mode in ["template-number", "template-time", "segment-list"] {
        let dir = copy_of(mode);
        let out = mp4dump().arg("-d").arg(dir.path()).output().expect("run");
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut dumps: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("e").path())
            .filter(|p| p.extension().is_some_and(|e| e == "dump"))
            .collect();
        dumps.sort();
        assert_eq!(dumps.len(), 3, "{mode}");
        for dump in dumps {
            let text = std::fs::read_to_string(&dump).expect("dump");
            let mut offset = 0u64;
            for (header, body) in sections(&text) {
                // `# PATH size=N offset=O (0xHEX)`
                let path = header[2..].split(" size=").next().expect("path");
                let file = dir.path().join(path);
                let size = std::fs::metadata(&file).expect("segment").len();
                assert_eq!(
                    header,
                    format!("# {path} size={size} offset={offset} ({offset:#x})"),
                    "{mode}"
                );
                offset += size;
                let single = mp4dump().arg(&file).output().expect("run");
                assert_eq!(
                    body,
                    String::from_utf8_lossy(&single.stdout),
                    "{mode}: {path}"
                );
            }
        }
    }
}

#[test]
fn webm_is_skipped_with_its_reason() {
    let dir = copy_of("webm");
    let out = mp4dump().arg("-d").arg(dir.path()).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("skipped") && stdout.contains("WebM"),
        "{stdout}"
    );
    assert!(!std::fs::read_dir(dir.path()).expect("ls").any(|e| {
        e.expect("e")
            .path()
            .extension()
            .is_some_and(|x| x == "dump")
    }));
}

#[test]
fn a_missing_segment_is_reported_and_the_rest_dumped() {
    let dir = copy_of("template-number");
    std::fs::remove_file(dir.path().join("chunk-stream0-00001.m4s")).expect("rm");
    let out = mp4dump()
        .arg("-d")
        .arg(dir.path())
        .args(["-r", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("chunk-stream0-00001.m4s"), "{stderr}");
    let dump = std::fs::read_to_string(dir.path().join("0.dump")).expect("dump");
    assert!(dump.contains("# chunk-stream0-00001.m4s MISSING"), "{dump}");
    assert!(dump.contains("# chunk-stream0-00002.m4s size="));
    // -r 0: only that representation.
    assert!(!dir.path().join("1.dump").exists());
}

#[test]
fn manifest_choice_and_errors() {
    let empty = tempfile::tempdir().expect("tmp");
    let out = mp4dump().arg("-d").arg(empty.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no manifest (.mpd)"));

    let dir = copy_of("template-number");
    std::fs::copy(
        dir.path().join("manifest.mpd"),
        dir.path().join("other.mpd"),
    )
    .expect("copy");
    let out = mp4dump().arg("-d").arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("manifest.mpd, other.mpd") && stderr.contains("--mpd"),
        "{stderr}"
    );
    let out = mp4dump()
        .arg("-d")
        .arg(dir.path())
        .args(["--mpd", "other.mpd", "-r", "2"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(dir.path().join("2.dump").exists());
    let out = mp4dump()
        .arg("-d")
        .arg(dir.path())
        .args(["--mpd", "other.mpd", "-r", "9"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn byte_range_representations_are_one_file_and_concat_rebuilds_segments() {
    let dir = copy_of("single-file");
    let out = mp4dump()
        .arg("-d")
        .arg(dir.path())
        .arg("--concat")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = std::fs::read_to_string(dir.path().join("0.dump")).expect("dump");
    let headers: Vec<&str> = dump.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headers.len(), 1, "{headers:?}");
    assert!(headers[0].starts_with("# manifest-stream0.mp4 size="));
    let original = std::fs::read(dir.path().join("manifest-stream0.mp4")).expect("file");
    assert_eq!(
        std::fs::read(dir.path().join("0.mp4")).expect("concat"),
        original
    );

    let dir = copy_of("template-number");
    mp4dump()
        .arg("-d")
        .arg(dir.path())
        .args(["--concat", "-r", "1"])
        .assert()
        .success();
    let mut expected = std::fs::read(dir.path().join("init-stream1.m4s")).expect("init");
    for n in 1..=2 {
        expected.extend(
            std::fs::read(dir.path().join(format!("chunk-stream1-{n:05}.m4s"))).expect("seg"),
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("1.mp4")).expect("concat"),
        expected
    );
}

#[test]
fn ids_with_slashes_become_safe_file_names_and_json_is_valid() {
    let dir = copy_of("template-number");
    let manifest = std::fs::read_to_string(dir.path().join("manifest.mpd")).expect("read");
    // Same files, an id such as packagers write.
    let renamed = manifest
        .replace(
            r#"<Representation id="0""#,
            r#"<Representation id="video/avc1/0""#,
        )
        .replace("init-stream$RepresentationID$.m4s", "init-stream0.m4s")
        .replace("chunk-stream$RepresentationID$-", "chunk-stream0-");
    std::fs::write(dir.path().join("manifest.mpd"), renamed).expect("write");
    let out = mp4dump()
        .arg("-d")
        .arg(dir.path())
        .args(["-r", "video/avc1/0", "--format", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(dir.path().join("video_avc1_0.json")).expect("json");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(value["representation"], "video/avc1/0");
    let segments = value["segments"].as_array().expect("segments");
    assert_eq!(segments.len(), 3);
    assert_eq!(segments[1]["path"], "chunk-stream0-00001.m4s");
    assert_eq!(
        segments[1]["offset"],
        std::fs::metadata(dir.path().join("init-stream0.m4s"))
            .expect("m")
            .len()
    );
    assert_eq!(segments[0]["boxes"][0]["name"], "ftyp");
}
