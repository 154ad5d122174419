//! Fixed-width and escaped text helpers shared by the formats.

/// Upper-case ASCII, other characters replaced by spaces, cut or space-padded to `width`
/// (NACHA alphanumeric fields).
pub fn alpha(value: &str, width: usize) -> String {
    let mut out: String = value
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c.to_ascii_uppercase()
            } else {
                ' '
            }
        })
        .take(width)
        .collect();
    while out.len() < width {
        out.push(' ');
    }
    out
}

/// Digits right-aligned and zero-padded to `width`; `None` when they do not fit.
pub fn numeric(value: u64, width: usize) -> Option<String> {
    let text = format!("{value:0width$}");
    (text.len() == width).then_some(text)
}

/// The digits of `value` only.
pub fn digits_of(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
}

/// `value` with XML's five special characters escaped.
pub fn xml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_fields() {
        assert_eq!(alpha("Acme Café", 12), "ACME CAF    ");
        assert_eq!(alpha("LONG NAME HERE", 4), "LONG");
        assert_eq!(numeric(42, 5).as_deref(), Some("00042"));
        assert_eq!(numeric(123_456, 5), None);
        assert_eq!(xml_escape("A&B <\"x\">"), "A&amp;B &lt;&quot;x&quot;&gt;");
    }
}
