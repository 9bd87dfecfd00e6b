//! Variables in automatic texts (auto-replies, welcome and greeting): `{visitor.name}`,
//! `{page.title}`, `{page.url}`, `{agent.name}`, `{channel.name}`.
//!
//! A missing or blank value becomes the inline fallback (`{visitor.name|朋友}`), else the
//! caller's fallback for that variable, else nothing. Anything else in braces stays as written.
//! One pass, no recursion: a value that itself looks like `{page.url}` is inserted literally.
//! The widget has the same rules in `web/widget/src/chat/template.ts`.

/// The variables a text may use, by name.
pub const VARIABLES: [&str; 5] = [
    "visitor.name",
    "page.title",
    "page.url",
    "agent.name",
    "channel.name",
];

/// Values of the variables; `None` or blank counts as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateValues {
    pub visitor_name: Option<String>,
    pub page_title: Option<String>,
    pub page_url: Option<String>,
    pub agent_name: Option<String>,
    pub channel_name: Option<String>,
}

impl TemplateValues {
    fn get(&self, name: &str) -> Option<Option<&str>> {
        let v = match name {
            "visitor.name" => &self.visitor_name,
            "page.title" => &self.page_title,
            "page.url" => &self.page_url,
            "agent.name" => &self.agent_name,
            "channel.name" => &self.channel_name,
            _ => return None,
        };
        Some(v.as_deref().filter(|s| !s.trim().is_empty()))
    }
}

/// `template` with its variables filled from `values`; `fallback` holds what a missing value
/// becomes when the text gives no inline fallback.
pub fn fill(template: &str, values: &TemplateValues, fallback: &TemplateValues) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        // The placeholder ends at the first `}`; a `{` before it means this brace is text.
        let close = after.find('}').filter(|&c| !after[..c].contains('{'));
        let Some(close) = close else {
            out.push('{');
            rest = after;
            continue;
        };
        let inner = &after[..close];
        let (name, inline) = match inner.split_once('|') {
            Some((n, f)) => (n.trim(), Some(f)),
            None => (inner.trim(), None),
        };
        match values.get(name) {
            Some(Some(v)) => out.push_str(v),
            Some(None) => match inline {
                Some(f) => out.push_str(f),
                None => out.push_str(fallback.get(name).flatten().unwrap_or("")),
            },
            None => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> TemplateValues {
        TemplateValues {
            visitor_name: Some("王芳".into()),
            page_title: Some("价格 - Acme".into()),
            page_url: Some("https://acme.test/pricing".into()),
            agent_name: Some("小李".into()),
            channel_name: Some("官网".into()),
        }
    }

    #[test]
    fn fills_every_variable() {
        assert_eq!(
            fill(
                "{visitor.name}您好，我是{agent.name}（{channel.name}）。您在看「{page.title}」{page.url}",
                &values(),
                &TemplateValues::default()
            ),
            "王芳您好，我是小李（官网）。您在看「价格 - Acme」https://acme.test/pricing"
        );
    }

    #[test]
    fn missing_values_use_inline_then_caller_fallback() {
        let none = TemplateValues::default();
        let fb = TemplateValues {
            visitor_name: Some("访客".into()),
            ..Default::default()
        };
        assert_eq!(fill("{visitor.name|朋友}你好", &none, &fb), "朋友你好");
        assert_eq!(fill("{visitor.name}你好", &none, &fb), "访客你好");
        assert_eq!(fill("看{page.title}", &none, &fb), "看");
        let blank = TemplateValues {
            visitor_name: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(fill("{ visitor.name | 朋友 }", &blank, &none), " 朋友 ");
        // A present value ignores the fallback.
        assert_eq!(fill("{visitor.name|朋友}", &values(), &fb), "王芳");
    }

    #[test]
    fn unknown_and_unbalanced_braces_stay_as_written() {
        let v = values();
        let none = TemplateValues::default();
        assert_eq!(fill("{order.id} {}", &v, &none), "{order.id} {}");
        assert_eq!(fill("a { b", &v, &none), "a { b");
        assert_eq!(fill("{{visitor.name}}", &v, &none), "{王芳}");
        assert_eq!(fill("} {visitor.name", &v, &none), "} {visitor.name");
        assert_eq!(fill("{x|y}", &v, &none), "{x|y}");
    }

    #[test]
    fn values_are_not_filled_again() {
        let v = TemplateValues {
            visitor_name: Some("{page.url}".into()),
            page_url: Some("https://acme.test".into()),
            ..Default::default()
        };
        assert_eq!(
            fill("{visitor.name} {page.url}", &v, &TemplateValues::default()),
            "{page.url} https://acme.test"
        );
    }
}
