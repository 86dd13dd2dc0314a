//! Man pages and shell completions come from the clap definitions (`--generate`): every long
//! option `--help` lists is in each of them, so none can drift from the options.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().unwrap();
    assert!(out.status.success(), "{bin} {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The long options `--help` lists (on the lines that define options).
fn long_options(help: &str) -> Vec<String> {
    let mut out: Vec<String> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| l.split([' ', ',']))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.split(['<', '=']).next().unwrap_or(w).to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn man_pages_and_completions_name_every_option() {
    for bin in [env!("CARGO_BIN_EXE_dashget"), env!("CARGO_BIN_EXE_mp4dump")] {
        let options = long_options(&run(bin, &["--help"]));
        assert!(options.len() >= 8, "{options:?}");
        let man = run(bin, &["--generate", "man"]);
        assert!(man.starts_with(".ie ") && man.contains(".TH "), "{bin}");
        for shell in ["bash", "zsh", "fish"] {
            let text = run(bin, &["--generate", shell]);
            for option in &options {
                let bare = option.trim_start_matches("--");
                assert!(text.contains(bare), "{bin} {shell}: {option}");
            }
        }
        for option in &options {
            // roff escapes the dashes.
            assert!(
                man.contains(&option.replace('-', "\\-")),
                "{bin} man: {option}"
            );
        }
    }
}
