//! The baseline process for `hostelpulse ical parse --json`: reads a feed file and parses it whole
//! with the `icalendar` crate, as a host using that crate alone would, and prints the number of
//! components. `cargo run --release -p hostelpulse-connector-ical --example icalendar_parse -- FILE`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: icalendar_parse FILE")?;
    let text = std::fs::read_to_string(&path)?;
    let unfolded = icalendar::parser::unfold(&text);
    let components = icalendar::parser::read_calendar(&unfolded).map_err(|e| e.to_string())?.components.len();
    println!("{components}");
    Ok(())
}
