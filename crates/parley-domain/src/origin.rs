//! Allowed widget origins. A channel may restrict which sites can embed its widget; the browser
//! sends the embedding page's origin with every widget request and WebSocket upgrade.

use crate::Invalid;

/// Normalises `https://Shop.Example.com/path` to `https://shop.example.com` (scheme, host and a
/// non-default port), which is exactly what browsers put in the `Origin` header.
pub fn normalize_origin(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim().trim_end_matches('/');
    let (scheme, rest) = s
        .split_once("://")
        .ok_or_else(|| Invalid::new(format!("origin '{s}' must start with http:// or https://")))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(Invalid::new(format!("origin '{s}' must use http or https")));
    }
    let hostport = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if hostport.is_empty()
        || hostport.contains('@')
        || !hostport
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(Invalid::new(format!("origin '{s}' has no valid host")));
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let hostport = hostport.strip_suffix(default_port).unwrap_or(&hostport);
    Ok(format!("{scheme}://{hostport}"))
}

/// The allowed origins of a channel; empty means "any site may embed it".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginList(Vec<String>);

impl OriginList {
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, Invalid> {
        let mut out = Vec::new();
        for item in items {
            if item.as_ref().trim().is_empty() {
                continue;
            }
            let o = normalize_origin(item.as_ref())?;
            if !out.contains(&o) {
                out.push(o);
            }
        }
        if out.len() > 50 {
            return Err(Invalid::new("at most 50 allowed origins"));
        }
        Ok(OriginList(out))
    }
    pub fn from_stored(items: Vec<String>) -> Self {
        OriginList(items)
    }
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
    /// `origin` is the raw `Origin` header, if the client sent one.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        match origin.and_then(|o| normalize_origin(o).ok()) {
            Some(o) => self.0.iter().any(|a| *a == o),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_browsers() {
        assert_eq!(
            normalize_origin("https://Shop.Example.com/a/b").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            normalize_origin("https://x.com:443").unwrap(),
            "https://x.com"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(normalize_origin("shop.example.com").is_err());
        assert!(normalize_origin("javascript://x").is_err());
        assert!(normalize_origin("https://user@evil.com").is_err());
    }

    #[test]
    fn empty_list_allows_all_otherwise_exact() {
        assert!(OriginList::default().allows(None));
        let l = OriginList::parse(&["https://shop.example.com", ""]).unwrap();
        assert!(l.allows(Some("https://shop.example.com")));
        assert!(!l.allows(Some("https://evil.example.com")));
        assert!(!l.allows(Some("http://shop.example.com")));
        assert!(!l.allows(None));
    }
}
