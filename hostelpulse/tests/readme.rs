//! The README's capability matrix is generated from the connectors' declared capabilities, never
//! written by hand.

const BEGIN: &str = "<!-- capabilities:begin -->";
const END: &str = "<!-- capabilities:end -->";

#[cfg(feature = "full")]
#[test]
fn the_readme_capability_matrix_is_generated() {
    let matrix = hostelpulse::capability_matrix();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    // The workspace README exists in the repository, not in the published crate.
    let Ok(readme) = std::fs::read_to_string(path) else {
        eprintln!("skipped: no workspace README beside this crate (a published copy)");
        return;
    };
    let (head, rest) = readme.split_once(BEGIN).expect("README has the begin marker");
    let (_, tail) = rest.split_once(END).expect("README has the end marker");
    let wanted = format!("{head}{BEGIN}\n{}{END}{tail}", matrix.to_markdown());
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(path, &wanted).unwrap();
        return;
    }
    assert!(
        readme == wanted,
        "the README capability matrix is out of date: run UPDATE_README=1 cargo test -p hostelpulse --all-features --test readme"
    );
}
