//! [`TextFields`]: a walk over every text a message holds.

/// Visits every text a message holds: each string field, list item, map key and value,
/// nested messages and oneofs included, empty ones too. Enum names and numbers are not
/// text. Every `payments.v1` message implements it, from code `build.rs` writes off prost's
/// output, so a field added to a contract is visited without being listed anywhere.
pub trait TextFields {
    /// Calls `visit` with each text, in field order.
    fn for_each_text<F: FnMut(&str)>(&self, visit: &mut F);
}

/// A timestamp holds no text.
impl TextFields for crate::Timestamp {
    fn for_each_text<F: FnMut(&str)>(&self, _: &mut F) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1 as pb;

    fn texts(message: &impl TextFields) -> Vec<String> {
        let mut seen = Vec::new();
        message.for_each_text(&mut |text| seen.push(text.to_owned()));
        seen
    }

    #[test]
    fn strings_list_items_map_entries_and_oneof_values_are_visited() {
        let payment = pb::Payment {
            payment_id: "P-1".into(),
            originator: Some(pb::Party {
                name: "Acme".into(),
                ..Default::default()
            }),
            metadata: Some(pb::Metadata {
                attributes: [("k".to_owned(), "v".to_owned())].into(),
                ..Default::default()
            }),
            warnings: vec![pb::ValidationWarning {
                field: "w1".into(),
                ..Default::default()
            }],
            details: Some(pb::payment::Details::Wire(pb::WireDetails {
                message_type: "MT103".into(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let seen = texts(&payment);
        for expected in ["P-1", "Acme", "k", "v", "w1", "MT103"] {
            assert!(
                seen.iter().any(|t| t == expected),
                "{expected} not visited: {seen:?}"
            );
        }
    }
}
