//! The contract with clients and the architecture rules, checked on every run.

use std::process::Command;

/// `schema.graphql` is what the server prints: a schema change without a regenerated file fails.
#[test]
fn the_committed_schema_is_the_served_schema() {
    let committed = include_str!("../../schema.graphql");
    let served = convene_graphql::sdl();
    assert!(
        committed == served,
        "schema.graphql is stale: run `cargo run -q -- export-schema > schema.graphql`"
    );
}

/// `convene export-schema` prints the same SDL.
#[test]
fn export_schema_prints_the_sdl() {
    let output = Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("export-schema")
        .output()
        .expect("convene export-schema runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        convene_graphql::sdl()
    );
}

/// Dependencies point one way: the domain names no ORM, web framework or GraphQL library.
#[test]
fn the_domain_depends_on_no_framework() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "convene-domain",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        tree.starts_with("convene-domain "),
        "unexpected tree: {tree}"
    );
    let forbidden: Vec<&str> = tree
        .lines()
        .filter(|line| {
            [
                "sea-orm",
                "sea-query",
                "sqlx",
                "axum",
                "async-graphql",
                "tokio ",
            ]
            .iter()
            .any(|name| line.starts_with(name))
        })
        .collect();
    assert!(
        forbidden.is_empty(),
        "convene-domain depends on {forbidden:?}"
    );
}
