//! Entry points (咨询入口): the groups a website channel lets its visitors pick from before the
//! chat starts, each with an optional label for visitors ("订单与售后" for the group 售后).

use crate::{GroupId, Invalid};
use serde::Serialize;
use utoipa::ToSchema;

/// Most options one channel may offer: more would not fit the widget as buttons.
pub const MAX_ENTRY_POINTS: usize = 10;
/// Longest visitor-facing label, in characters.
pub const MAX_ENTRY_LABEL_CHARS: usize = 40;

/// One option of a channel's entry menu, as stored and as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntryPoint {
    pub group_id: GroupId,
    /// What the visitor reads; empty shows the group's name.
    pub label: String,
    /// The group's name, loaded with the option; not part of the API shape.
    #[serde(skip)]
    pub group_name: String,
}

impl EntryPoint {
    /// The text of the visitor's button.
    pub fn visitor_label(&self) -> &str {
        if self.label.is_empty() {
            &self.group_name
        } else {
            &self.label
        }
    }
}

/// Checks an ordered option list as an admin sent it: at most [`MAX_ENTRY_POINTS`], no group
/// twice, labels trimmed, at most [`MAX_ENTRY_LABEL_CHARS`] and without control characters.
/// Whether the groups exist is for the caller to check (it needs the store).
pub fn parse_entry_points(raw: &[(GroupId, String)]) -> Result<Vec<(GroupId, String)>, Invalid> {
    if raw.len() > MAX_ENTRY_POINTS {
        return Err(Invalid::new(format!(
            "a channel can offer at most {MAX_ENTRY_POINTS} entry options"
        )));
    }
    let mut out: Vec<(GroupId, String)> = Vec::with_capacity(raw.len());
    for (i, (group, label)) in raw.iter().enumerate() {
        let n = i + 1;
        if out.iter().any(|(g, _)| g == group) {
            return Err(Invalid::new(format!(
                "entry option {n}: this group is already an option"
            )));
        }
        let label = label.trim();
        if label.chars().count() > MAX_ENTRY_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(Invalid::new(format!(
                "entry option {n}: the label must be at most {MAX_ENTRY_LABEL_CHARS} characters, without control characters"
            )));
        }
        out.push((*group, label.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_trimmed_and_kept_in_order() {
        let (a, b) = (GroupId::new(), GroupId::new());
        let got = parse_entry_points(&[(b, "  订单与售后 ".into()), (a, String::new())]).unwrap();
        assert_eq!(got, vec![(b, "订单与售后".into()), (a, String::new())]);
        assert!(parse_entry_points(&[]).unwrap().is_empty());
    }

    #[test]
    fn duplicates_long_labels_and_too_many_options_are_refused() {
        let a = GroupId::new();
        let e = parse_entry_points(&[(a, "x".into()), (a, "y".into())]).unwrap_err();
        assert!(e.0.contains("option 2"), "{e}");
        let long = "长".repeat(MAX_ENTRY_LABEL_CHARS + 1);
        assert!(parse_entry_points(&[(a, long)]).is_err());
        let max = "长".repeat(MAX_ENTRY_LABEL_CHARS);
        assert!(parse_entry_points(&[(a, max)]).is_ok());
        assert!(parse_entry_points(&[(a, "a\u{7}b".into())]).is_err());
        let many: Vec<_> = (0..=MAX_ENTRY_POINTS)
            .map(|_| (GroupId::new(), String::new()))
            .collect();
        assert!(parse_entry_points(&many).is_err());
        assert!(parse_entry_points(&many[..MAX_ENTRY_POINTS]).is_ok());
    }

    #[test]
    fn an_empty_label_shows_the_group_name() {
        let mut e = EntryPoint {
            group_id: GroupId::new(),
            label: String::new(),
            group_name: "售后".into(),
        };
        assert_eq!(e.visitor_label(), "售后");
        e.label = "订单与售后".into();
        assert_eq!(e.visitor_label(), "订单与售后");
    }
}
