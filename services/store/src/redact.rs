//! Store URLs without their passwords, for logs and errors.

/// `url` without the password of its `user:password@` part.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => {
                let user = credentials.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_descriptions() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/payments"),
            "postgres://app@db:5432/payments"
        );
        assert_eq!(
            redact("redis://:s3cret@cache:6379/0"),
            "redis://@cache:6379/0"
        );
        assert_eq!(redact("postgres://db/payments"), "postgres://db/payments");
    }
}
