//! Splitting a `url` field's value into the parts conditions read (host,
//! path, query), and the segment-wise path-prefix test. The split follows
//! RFC 3986's reference grammar (appendix B), so a bare path (`/settings`)
//! and a full URL (`https://app.example.com/settings?tab=1`) both work; no
//! percent-decoding, no resolution of `.` and `..`: the text is compared as
//! written.

use routec_compiler::hir::UrlPart;

/// The `part` of `url`, `None` when it has none (a bare path has no host,
/// a URL without `?` no query).
pub(crate) fn part(url: &str, part: UrlPart) -> Option<String> {
    let split = Split::of(url);
    match part {
        UrlPart::Host => split.authority.map(host),
        UrlPart::Path => Some(match (split.path, split.authority) {
            ("", Some(_)) => "/".to_string(),
            (path, _) => path.to_string(),
        }),
        UrlPart::Query => split.query.map(str::to_string),
    }
}

/// Whether `path` is `prefix` or lies under it: `/settings/billing` holds
/// for `/settings/billing` and `/settings/billing/invoices`, not for
/// `/settings/billing-old`. A trailing `/` on `prefix` changes nothing.
pub(crate) fn path_under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

struct Split<'u> {
    authority: Option<&'u str>,
    path: &'u str,
    query: Option<&'u str>,
}

impl<'u> Split<'u> {
    /// `^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?`
    fn of(url: &'u str) -> Split<'u> {
        let url = url.trim();
        let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
        let (rest, query) = match without_fragment.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (without_fragment, None),
        };
        let rest = match rest.find([':', '/']) {
            Some(colon) if rest.as_bytes()[colon] == b':' && colon > 0 => &rest[colon + 1..],
            _ => rest,
        };
        let (authority, path) = match rest.strip_prefix("//") {
            Some(after) => {
                let end = after.find('/').unwrap_or(after.len());
                (Some(&after[..end]), &after[end..])
            }
            None => (None, rest),
        };
        Split { authority, path, query }
    }
}

/// The host of an authority (`user:pw@Host.Example:8080`): no user
/// information, no port, lower-cased.
fn host(authority: &str) -> String {
    let after_user = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let without_port = if after_user.starts_with('[') {
        // An IPv6 literal keeps its colons: `[::1]:8080`.
        after_user.split_once(']').map_or(after_user, |(inside, _)| inside).trim_start_matches('[')
    } else {
        after_user.rsplit_once(':').map_or(after_user, |(h, _)| h)
    };
    without_port.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (Option<String>, Option<String>, Option<String>) {
        (part(url, UrlPart::Host), part(url, UrlPart::Path), part(url, UrlPart::Query))
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn full_urls_and_bare_paths_split_alike() {
        assert_eq!(
            parts("https://App.Example.com/settings/billing?tab=1#top"),
            (some("app.example.com"), some("/settings/billing"), some("tab=1"))
        );
        assert_eq!(parts("/settings/billing?tab=1"), (None, some("/settings/billing"), some("tab=1")));
        assert_eq!(parts("https://app.example.com"), (some("app.example.com"), some("/"), None));
        assert_eq!(parts("https://u:p@app.example.com:8443/x?"), (some("app.example.com"), some("/x"), some("")));
        assert_eq!(parts("http://[::1]:8080/x"), (some("::1"), some("/x"), None));
        assert_eq!(parts("//cdn.example.com/a"), (some("cdn.example.com"), some("/a"), None));
        assert_eq!(parts(""), (None, some(""), None));
    }

    #[test]
    fn a_colon_in_a_path_is_not_a_scheme() {
        assert_eq!(parts("/a:b/c"), (None, some("/a:b/c"), None));
        assert_eq!(parts("mailto:help@example.com"), (None, some("help@example.com"), None));
    }

    #[test]
    fn path_prefixes_match_whole_segments() {
        assert!(path_under("/settings/billing", "/settings/billing"));
        assert!(path_under("/settings/billing/invoices", "/settings/billing"));
        assert!(path_under("/settings/billing/", "/settings/billing/"));
        assert!(path_under("/settings/billing/invoices", "/settings/billing/"));
        assert!(!path_under("/settings/billing-old", "/settings/billing"));
        assert!(!path_under("/settings", "/settings/billing"));
        assert!(path_under("/anything", "/"));
    }
}
