//! Article Markdown to HTML, for the help centre and the console's preview (one renderer, so
//! editors see what visitors will). Articles are user text: raw HTML in the Markdown is shown
//! as text, never passed through, and link and image targets are limited to http(s), mailto
//! (links) and relative URLs.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

pub fn to_html(md: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(md, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url, &["http", "https", "mailto"]),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url, &["http", "https"]),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The URL when it is relative or of an allowed scheme, else `#`. Browsers ignore tabs,
/// newlines and leading spaces in a scheme (`java\tscript:`), so the check does too.
fn safe_url<'a>(url: CowStr<'a>, schemes: &[&str]) -> CowStr<'a> {
    let plain: String = url
        .chars()
        .filter(|c| !c.is_ascii_control() && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    match plain.find([':', '/', '?', '#']) {
        Some(i) if plain.as_bytes()[i] == b':' && !schemes.contains(&&plain[..i]) => {
            CowStr::Borrowed("#")
        }
        _ => url,
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn renders_markdown() {
        let html = to_html("# 退货\n\n**七天**内可以[退货](https://example.com/r)。\n\n- 一\n- 二");
        assert!(html.contains("<h1>退货</h1>"), "{html}");
        assert!(html.contains("<strong>七天</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com/r">退货</a>"#),
            "{html}"
        );
        assert!(html.contains("<li>一</li>"), "{html}");
    }

    #[test]
    fn raw_html_is_text() {
        let html = to_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> there");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn dangerous_urls_become_inert() {
        for md in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](<java\tscript:alert(1)>)",
            "[x](data:text/html,<script>alert(1)</script>)",
            "![x](javascript:alert(1))",
            "![x](data:image/svg+xml,<svg/onload=alert(1)>)",
        ] {
            let html = to_html(md);
            assert!(!html.to_lowercase().contains("script:"), "{md} → {html}");
            assert!(!html.contains("data:"), "{md} → {html}");
        }
        assert!(to_html("[x](/help/a)").contains(r#"href="/help/a""#));
        assert!(to_html("[x](mailto:a@b.c)").contains(r#"href="mailto:a@b.c""#));
    }
}
