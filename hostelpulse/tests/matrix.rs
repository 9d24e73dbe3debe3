//! Every connector's capability row, pinned: a change to what a connector claims is a reviewed
//! snapshot change.

#[cfg(feature = "full")]
#[test]
fn the_generated_matrix_is_pinned() {
    let m = hostelpulse::capability_matrix();
    insta::assert_snapshot!("matrix_markdown", m.to_markdown());
    for row in &m.rows {
        insta::assert_json_snapshot!(format!("row_{}", row.connector), row);
    }
}
