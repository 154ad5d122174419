//! Topic and group names as file names: letters, digits, `-`, `_` and a `.` that does not
//! begin the name stay; every other byte becomes `%XX`. An empty name is `%`.

/// `name` as one file name, or one word of a text file: no `/`, no space, no leading `.`.
pub(super) fn encode_name(name: &str) -> String {
    if name.is_empty() {
        return "%".to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for (i, byte) in name.bytes().enumerate() {
        let kept =
            byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' || (byte == b'.' && i > 0);
        if kept {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The name [`encode_name`] made `encoded` of, or `None` when no name encodes so.
pub(super) fn decode_name(encoded: &str) -> Option<String> {
    if encoded == "%" {
        return Some(String::new());
    }
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    let name = String::from_utf8(bytes).ok()?;
    (encode_name(&name) == encoded).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_make_safe_file_names() {
        for name in [
            "payment-transactions",
            "payment-transactions.dlq",
            "",
            ".",
            "..",
            "a/b c",
            "payments.sqlite:/tmp/x",
            "ünï\u{0}",
        ] {
            let encoded = encode_name(name);
            assert!(
                !encoded.contains(['/', ' ', '\0']) && !encoded.starts_with('.'),
                "{encoded}"
            );
            assert_eq!(decode_name(&encoded).as_deref(), Some(name), "{encoded}");
        }
        assert_eq!(
            encode_name("payment-transactions.dlq"),
            "payment-transactions.dlq"
        );
        assert_eq!(encode_name(".x"), "%2Ex");
    }

    #[test]
    fn what_no_name_encodes_to_is_refused() {
        for encoded in ["%zz", "%4", "%2e", "%41", ".x", "%FF"] {
            assert_eq!(decode_name(encoded), None, "{encoded}");
        }
    }
}
