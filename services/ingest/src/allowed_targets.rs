//! [`AllowedTargets`]: the IngestService addresses a caller may send payments (and its
//! bearer token) to. A generator runs traffic into the target a run names only when it is on
//! this list, so that `StartRun` cannot point it, with its credentials, at any host.

/// The ingest targets a generator may reach, compared by `host:port` (a URL's scheme and
/// trailing `/` aside, host names case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedTargets(Vec<String>);

/// A target that is not on the list.
#[derive(Debug, thiserror::Error)]
#[error("{target:?} is not an allowed ingest target ({})", allowed_text(.allowed))]
pub struct TargetNotAllowed {
    /// The target as given.
    pub target: String,
    /// The targets that are allowed, as configured.
    pub allowed: Vec<String>,
}

fn allowed_text(allowed: &[String]) -> String {
    if allowed.is_empty() {
        "none is: start the generator with --allow-ingest-target HOST:PORT".to_owned()
    } else {
        format!(
            "allowed: {}; start the generator with --allow-ingest-target to add one",
            allowed.join(", ")
        )
    }
}

impl AllowedTargets {
    /// The targets in `targets` (blank ones skipped).
    pub fn new<I, S>(targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self(
            targets
                .into_iter()
                .map(|t| t.as_ref().trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
        )
    }

    /// The same list with `target` added.
    pub fn with(mut self, target: &str) -> Self {
        if !target.trim().is_empty() {
            self.0.push(target.trim().to_owned());
        }
        self
    }

    /// `Ok` when `target` is on the list.
    pub fn check(&self, target: &str) -> Result<(), TargetNotAllowed> {
        let wanted = authority(target);
        if self.0.iter().any(|allowed| authority(allowed) == wanted) {
            Ok(())
        } else {
            Err(TargetNotAllowed {
                target: target.to_owned(),
                allowed: self.0.clone(),
            })
        }
    }
}

/// `host:port` of a target given as `host:port` or a URL, lowercased.
fn authority(target: &str) -> String {
    let target = target.trim();
    let without_scheme = target.split_once("://").map_or(target, |(_, rest)| rest);
    without_scheme.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_match_by_host_and_port_whatever_the_scheme() {
        let allowed = AllowedTargets::new(["ingest:50054", " "]).with("http://Other:1/");
        assert!(allowed.check("ingest:50054").is_ok());
        assert!(allowed.check("https://INGEST:50054/").is_ok());
        assert!(allowed.check("other:1").is_ok());
        let refused = allowed.check("attacker.example:50054").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "\"attacker.example:50054\" is not an allowed ingest target (allowed: \
             ingest:50054, http://Other:1/; start the generator with --allow-ingest-target to \
             add one)"
        );
        assert!(allowed.check("ingest:50055").is_err());
        assert!(allowed.check("ingest:50054.attacker.example").is_err());
    }

    #[test]
    fn an_empty_list_allows_nothing_and_says_how_to_allow() {
        let refused = AllowedTargets::default().check("ingest:50054").unwrap_err();
        assert!(refused.to_string().contains("--allow-ingest-target"));
    }
}
