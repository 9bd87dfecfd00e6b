/// "Chrome 120" and "Windows 10" from a User-Agent header, for the visitor panel.
pub fn describe_user_agent(ua: &str) -> (Option<String>, Option<String>) {
    match woothee::parser::Parser::new().parse(ua) {
        Some(r) => {
            let browser = (r.name != "UNKNOWN").then(|| {
                let major = r.version.split('.').next().unwrap_or("");
                if major.is_empty() || major == "UNKNOWN" {
                    r.name.to_string()
                } else {
                    format!("{} {}", r.name, major)
                }
            });
            let os = (r.os != "UNKNOWN").then(|| {
                if r.os_version.is_empty()
                    || r.os_version == "UNKNOWN"
                    || r.os.contains(r.os_version.as_ref())
                {
                    r.os.to_string()
                } else {
                    format!("{} {}", r.os, r.os_version)
                }
            });
            (browser, os)
        }
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chrome_on_windows() {
        let (b, o) = super::describe_user_agent(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        );
        assert_eq!(b.as_deref(), Some("Chrome 120"));
        assert!(o.unwrap().starts_with("Windows"));
    }
}
