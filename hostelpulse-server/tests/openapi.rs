//! The checked-in `openapi.json` (at the repository's root) is what the handlers generate. After
//! changing the API, regenerate it: `UPDATE_OPENAPI=1 cargo test -p hostelpulse-server --test openapi`.

#[test]
fn the_checked_in_openapi_file_matches_the_code() {
    let generated = serde_json::to_string_pretty(&hostelpulse_server::openapi()).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi.json drifted from the handlers: run `UPDATE_OPENAPI=1 cargo test -p hostelpulse-server --test openapi` and commit it"
    );
    // Every route the router serves under /api/v1 is documented.
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for p in [
        "/api/v1/accounts",
        "/api/v1/accounts/{id}/runs",
        "/api/v1/accounts/{id}/runs/{run_id}",
        "/api/v1/accounts/{id}/capabilities",
        "/api/v1/accounts/{id}/stay",
        "/api/v1/accounts/{id}/sync",
        "/api/v1/properties",
        "/api/v1/properties/{name}/board",
        "/api/v1/properties/{name}/tasks",
        "/api/v1/properties/{name}/sync",
        "/api/v1/mapping",
        "/api/v1/mapping/confirm",
        "/api/v1/mapping/{key}",
    ] {
        assert!(paths.contains(&p), "{p} undocumented: {paths:?}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
