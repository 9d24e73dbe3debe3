//! The capability matrix across connectors, as JSON or a Markdown table.

use serde::{Deserialize, Serialize};

use super::{Capabilities, Incremental, Operation, Visibility, WebhookAuth};

/// Renders one cell of a connector's column.
type Cell = fn(&Capabilities) -> String;

/// Capabilities of several connectors, one row each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityMatrix {
    /// One entry per connector (or per connected account, for effective matrices).
    pub rows: Vec<Capabilities>,
}

impl CapabilityMatrix {
    /// A matrix of these rows.
    pub fn new(rows: impl IntoIterator<Item = Capabilities>) -> Self {
        Self { rows: rows.into_iter().collect() }
    }

    /// One row per operation, one column per connector (readable with many connectors).
    pub fn operations_markdown(&self) -> String {
        let mut t =
            vec![std::iter::once("operation".to_owned()).chain(self.rows.iter().map(|c| escape(&c.name))).collect()];
        for op in Operation::ALL {
            t.push(
                std::iter::once(format!("`{}`", op.as_str()))
                    .chain(self.rows.iter().map(|c| escape(&c.support(op).label())))
                    .collect(),
            );
        }
        markdown_table(&t)
    }

    /// One row per sync property, one column per connector.
    pub fn sync_markdown(&self) -> String {
        let mut t: Vec<Vec<String>> =
            vec![std::iter::once("sync".to_owned()).chain(self.rows.iter().map(|c| escape(&c.name))).collect()];
        for (name, get) in SYNC_PROPERTIES {
            t.push(std::iter::once(name.to_owned()).chain(self.rows.iter().map(|c| escape(&get(c)))).collect());
        }
        markdown_table(&t)
    }

    /// Both tables and the uncertain facts, as a Markdown section body.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.operations_markdown());
        out.push_str("\n\n");
        out.push_str(&self.sync_markdown());
        out.push('\n');
        let uncertain: Vec<_> = self.rows.iter().filter(|c| !c.uncertain.is_empty()).collect();
        if !uncertain.is_empty() {
            out.push_str("\nUncertain at the source (configurable):\n\n");
            for caps in uncertain {
                for note in &caps.uncertain {
                    out.push_str(&format!("- {}: {}\n", caps.name, note));
                }
            }
        }
        out
    }
}

/// The sync properties a matrix shows, with how each reads.
const SYNC_PROPERTIES: [(&str, Cell); 7] = [
    ("incremental", |c| incremental_label(&c.sync.incremental)),
    ("cancellations", |c| visibility_label(&c.sync.cancellations)),
    ("deletions", |c| visibility_label(&c.sync.deletions)),
    ("granularity", |c| enum_label(&c.sync.granularity)),
    ("webhooks", |c| webhook_label(&c.sync.webhooks)),
    ("rate limit", |c| c.sync.rate_limit.to_string()),
    ("freshness", |c| c.sync.freshness.clone()),
];

impl Capabilities {
    /// The sync semantics as (property, label) rows, in the words of the matrix's tables.
    pub fn sync_summary(&self) -> Vec<(&'static str, String)> {
        SYNC_PROPERTIES.iter().map(|(name, get)| (*name, get(self))).collect()
    }
}

/// A Markdown pipe table, columns padded to their widest cell (the first row is the header).
/// Written here rather than pulled from a table crate: core stays free of rendering dependencies,
/// and a pipe table is all the matrix needs.
fn markdown_table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |i: usize| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let line = |r: &[String]| {
        let cells = widths.iter().enumerate().map(|(i, w)| {
            let c = r.get(i).map_or("", String::as_str);
            format!(" {c}{} ", " ".repeat(w - c.chars().count()))
        });
        format!("|{}|", cells.collect::<Vec<_>>().join("|"))
    };
    let mut out = Vec::with_capacity(rows.len() + 1);
    if let Some((head, body)) = rows.split_first() {
        out.push(line(head));
        out.push(format!("|{}|", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|")));
        out.extend(body.iter().map(|r| line(r)));
    }
    out.join("\n")
}

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

fn enum_label<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " "),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn incremental_label(i: &Incremental) -> String {
    match i {
        Incremental::ModifiedSince { reliable: true } => "modified-since".into(),
        Incremental::ModifiedSince { reliable: false } => "modified-since (+ periodic reconcile)".into(),
        Incremental::PushOnly => "push only (webhooks)".into(),
        Incremental::None => "none (full snapshots)".into(),
    }
}

fn visibility_label(v: &Visibility) -> String {
    match v {
        Visibility::Status => "status".into(),
        Visibility::Webhook => "webhook".into(),
        Visibility::SnapshotDiff => "snapshot diff".into(),
        Visibility::DeletedFlag => "deleted flag".into(),
        Visibility::NotVisible => "not visible".into(),
    }
}

fn webhook_label(w: &WebhookAuth) -> String {
    match w {
        WebhookAuth::NotOffered => "none".into(),
        WebhookAuth::Hmac => "HMAC".into(),
        WebhookAuth::StaticHeader => "static header".into(),
        WebhookAuth::UrlSecret => "URL secret".into(),
        WebhookAuth::UrlSecretAndIpAllowList => "URL secret + IP allow-list".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::tests::sample;

    #[test]
    fn markdown_is_generated_from_the_values() {
        let m = CapabilityMatrix::new([sample()]);
        let md = m.to_markdown();
        assert!(md.contains("| Beds24 API v2"), "{md}");
        assert!(md.contains("scope: read:bookings-personal"), "{md}");
        assert!(md.contains("100 credits per 5 min per account"), "{md}");
        insta::assert_snapshot!(md);
    }
}
