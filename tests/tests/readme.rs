//! The README tells a new user the truth: the Rust version it names is the workspace's
//! `rust-version`, and no locked dependency needs a newer one.

use meldpunt_end_to_end::workspace_root;

fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|part| part.parse().unwrap()).collect()
}

#[test]
fn the_readme_names_the_real_minimum_rust_version() {
    let root = workspace_root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let ours = manifest
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust ({ours} or newer)")),
        "README.md does not say Rust ({ours} or newer)"
    );
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut newest = (version(&ours), String::from("the workspace"));
    for package in metadata["packages"].as_array().unwrap() {
        if let Some(needed) = package["rust_version"].as_str() {
            let needed = version(needed);
            if needed > newest.0 {
                newest = (needed, package["name"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(
        newest.0,
        version(&ours),
        "{} needs a newer Rust than rust-version = {ours}",
        newest.1
    );
}
