//! [`take_url_option`]: one of our own options taken out of a store URL's query, so that the
//! rest can go to the driver, which refuses parameters it does not know.

/// `url` without its `name=value` query parameter, and that value when present (the last one
/// when repeated). Every other parameter is kept, in its order.
pub fn take_url_option(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut value = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((key, v)) if key == name => value = Some(v.to_owned()),
            _ if pair == name => value = Some(String::new()),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, value)
}

#[cfg(test)]
mod tests {
    use super::take_url_option;

    #[test]
    fn the_option_is_taken_out_and_every_other_parameter_kept_in_order() {
        assert_eq!(
            take_url_option("sqlite://a.db?mode=rwc&cache_mib=128&vfs=unix", "cache_mib"),
            (
                "sqlite://a.db?mode=rwc&vfs=unix".to_owned(),
                Some("128".to_owned())
            )
        );
        assert_eq!(
            take_url_option("sqlite://a.db?cache_mib=1", "cache_mib"),
            ("sqlite://a.db".to_owned(), Some("1".to_owned()))
        );
    }

    #[test]
    fn a_url_without_the_option_is_unchanged() {
        for url in ["sqlite://a.db", "sqlite://a.db?mode=rwc", "sqlite://a.db?"] {
            let (rest, value) = take_url_option(url, "cache_mib");
            assert_eq!(value, None, "{url}");
            assert_eq!(rest, url.trim_end_matches('?'), "{url}");
        }
    }

    #[test]
    fn an_option_without_a_value_is_present_and_empty() {
        assert_eq!(
            take_url_option("postgres://h/db?json_doc", "json_doc"),
            ("postgres://h/db".to_owned(), Some(String::new()))
        );
    }
}
