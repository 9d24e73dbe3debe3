fn main() {
    for p in std::env::args().skip(1) {
        let bytes = std::fs::read(&p).unwrap();
        let r = hostelpulse_connector_email::parse_message(&bytes, &Default::default());
        println!("=== {p}\n{}", serde_json::to_string(&r.as_ref().map_err(|e| e.to_string())).unwrap());
    }
}
