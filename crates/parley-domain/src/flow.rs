//! Guided flows (多轮引导): admin-defined steps with buttons, e.g. 账户问题 → 登录问题 → 忘记密码 →
//! a reset link. A flow starts when a visitor's message contains one of its trigger phrases;
//! each step shows a text and buttons; a button leads to another step, opens a link, ends the
//! flow or asks for a person. Anything the visitor types that is not a button leaves the flow.
//! Checking a workspace's flows and stepping through them are pure functions here.

use crate::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MAX_FLOWS: usize = 50;
pub const MAX_STEPS: usize = 50;
pub const MAX_OPTIONS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Flow {
    /// Unique within the workspace: letters, digits, `-` and `_`, 1 to 40.
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Phrases that start the flow when a visitor's message contains one (1 to 20).
    pub triggers: Vec<String>,
    /// The first step is where the flow starts.
    pub steps: Vec<FlowStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FlowStep {
    /// Unique within the flow, same characters as a flow id.
    pub id: String,
    pub text: String,
    pub options: Vec<FlowOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FlowOption {
    /// The button's text (1 to 40 characters, unique within the step).
    pub label: String,
    #[serde(flatten)]
    pub action: FlowAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FlowAction {
    /// Show another step of the same flow.
    Step { step: String },
    /// Open an http(s) page (the flow stays where it is).
    Link { url: String },
    /// Leave the flow for a person.
    Human,
    /// Leave the flow.
    End,
}

fn valid_id(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Trimmed, lower case, full-width ASCII as half-width, punctuation and spaces dropped: how
/// triggers and button labels are compared with what the visitor sent.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Checks a workspace's flows as an admin sent them; the error names the place.
pub fn check_flows(flows: &[Flow]) -> Result<(), Invalid> {
    if flows.len() > MAX_FLOWS {
        return Err(Invalid::new(format!("at most {MAX_FLOWS} flows")));
    }
    for (i, f) in flows.iter().enumerate() {
        let at = format!("flows[{}]", i + 1);
        if !valid_id(&f.id) {
            return Err(Invalid::new(format!(
                "{at}.id must be 1 to 40 letters, digits, - or _"
            )));
        }
        if flows[..i].iter().any(|g| g.id == f.id) {
            return Err(Invalid::new(format!("{at}.id “{}” is used twice", f.id)));
        }
        if f.name.trim().is_empty() || f.name.chars().count() > 100 {
            return Err(Invalid::new(format!(
                "{at}.name must be 1 to 100 characters"
            )));
        }
        if f.triggers.is_empty() || f.triggers.len() > 20 {
            return Err(Invalid::new(format!("{at}.triggers: 1 to 20 phrases")));
        }
        for t in &f.triggers {
            if normalize(t).is_empty() || t.chars().count() > 50 {
                return Err(Invalid::new(format!(
                    "{at}.triggers: “{t}” must have 1 to 50 characters with letters or digits"
                )));
            }
        }
        if f.steps.is_empty() || f.steps.len() > MAX_STEPS {
            return Err(Invalid::new(format!("{at}.steps: 1 to {MAX_STEPS} steps")));
        }
        for (j, s) in f.steps.iter().enumerate() {
            let at = format!("{at}.steps[{}]", j + 1);
            if !valid_id(&s.id) {
                return Err(Invalid::new(format!(
                    "{at}.id must be 1 to 40 letters, digits, - or _"
                )));
            }
            if f.steps[..j].iter().any(|o| o.id == s.id) {
                return Err(Invalid::new(format!("{at}.id “{}” is used twice", s.id)));
            }
            if s.text.trim().is_empty() || s.text.chars().count() > 2000 {
                return Err(Invalid::new(format!(
                    "{at}.text must be 1 to 2000 characters"
                )));
            }
        }
        // Options after every step id is known: an option may lead to a later step.
        for (j, s) in f.steps.iter().enumerate() {
            let at = format!("{at}.steps[{}]", j + 1);
            if s.options.len() > MAX_OPTIONS {
                return Err(Invalid::new(format!("{at}.options: at most {MAX_OPTIONS}")));
            }
            for (k, o) in s.options.iter().enumerate() {
                let at = format!("{at}.options[{}]", k + 1);
                if normalize(&o.label).is_empty() || o.label.chars().count() > 40 {
                    return Err(Invalid::new(format!(
                        "{at}.label must be 1 to 40 characters with letters or digits"
                    )));
                }
                if s.options[..k]
                    .iter()
                    .any(|p| normalize(&p.label) == normalize(&o.label))
                {
                    return Err(Invalid::new(format!(
                        "{at}.label “{}” is used twice in this step",
                        o.label
                    )));
                }
                match &o.action {
                    FlowAction::Step { step } if !f.steps.iter().any(|x| &x.id == step) => {
                        return Err(Invalid::new(format!("{at}: no step “{step}” in this flow")));
                    }
                    FlowAction::Link { url }
                        if !(url.starts_with("https://") || url.starts_with("http://"))
                            || url.len() > 2000
                            || url.chars().any(char::is_whitespace) =>
                    {
                        return Err(Invalid::new(format!(
                            "{at}: the link must be an http(s) address"
                        )));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// The enabled flow a visitor's message starts, if any: the first whose trigger it contains.
pub fn flow_started_by<'a>(flows: &'a [Flow], text: &str) -> Option<&'a Flow> {
    let t = normalize(text);
    if t.is_empty() {
        return None;
    }
    flows.iter().filter(|f| f.enabled).find(|f| {
        f.triggers.iter().any(|k| {
            let k = normalize(k);
            !k.is_empty() && t.contains(&k)
        })
    })
}

/// What a visitor's message does in a flow they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowMove<'a> {
    /// Show this step.
    Show(&'a FlowStep),
    /// Leave the flow for a person.
    Human,
    /// Leave the flow quietly.
    End,
    /// The message is not a button of the current step: the flow is left and the message is
    /// handled as usual. (A link button's label also lands here: links open in the browser.)
    NotAnOption,
}

/// Steps `flow` from step `at` with the visitor's message. A step that no longer exists (the
/// admin changed the flow meanwhile) ends it.
pub fn step<'a>(flow: &'a Flow, at: &str, text: &str) -> FlowMove<'a> {
    let Some(current) = flow.steps.iter().find(|s| s.id == at) else {
        return FlowMove::End;
    };
    let t = normalize(text);
    let Some(option) = current.options.iter().find(|o| normalize(&o.label) == t) else {
        return FlowMove::NotAnOption;
    };
    match &option.action {
        FlowAction::Step { step } => match flow.steps.iter().find(|s| &s.id == step) {
            Some(s) => FlowMove::Show(s),
            None => FlowMove::End,
        },
        FlowAction::Human => FlowMove::Human,
        FlowAction::End => FlowMove::End,
        FlowAction::Link { .. } => FlowMove::NotAnOption,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(label: &str, action: FlowAction) -> FlowOption {
        FlowOption {
            label: label.into(),
            action,
        }
    }

    fn account() -> Flow {
        Flow {
            id: "account".into(),
            name: "账户问题".into(),
            enabled: true,
            triggers: vec!["账户问题".into(), "账号".into()],
            steps: vec![
                FlowStep {
                    id: "start".into(),
                    text: "请问是哪类账户问题？".into(),
                    options: vec![
                        opt(
                            "登录问题",
                            FlowAction::Step {
                                step: "login".into(),
                            },
                        ),
                        opt("转人工", FlowAction::Human),
                    ],
                },
                FlowStep {
                    id: "login".into(),
                    text: "登录遇到什么问题？".into(),
                    options: vec![
                        opt(
                            "忘记密码",
                            FlowAction::Step {
                                step: "reset".into(),
                            },
                        ),
                        opt(
                            "返回",
                            FlowAction::Step {
                                step: "start".into(),
                            },
                        ),
                    ],
                },
                FlowStep {
                    id: "reset".into(),
                    text: "点击下方链接重置密码。".into(),
                    options: vec![
                        opt(
                            "重置密码",
                            FlowAction::Link {
                                url: "https://shop.test/reset".into(),
                            },
                        ),
                        opt("解决了", FlowAction::End),
                    ],
                },
            ],
        }
    }

    #[test]
    fn a_flow_walks_from_trigger_to_link_and_back() {
        let flows = vec![account()];
        let f = flow_started_by(&flows, "你好，我的账号登不上").unwrap();
        assert_eq!(f.steps[0].id, "start");
        assert_eq!(flow_started_by(&flows, "怎么退货"), None);
        let FlowMove::Show(login) = step(f, "start", " 登录问题！") else {
            panic!()
        };
        assert_eq!(login.id, "login");
        assert!(matches!(step(f, "login", "忘记密码"), FlowMove::Show(s) if s.id == "reset"));
        assert!(matches!(step(f, "login", "返回"), FlowMove::Show(s) if s.id == "start"));
        assert_eq!(step(f, "start", "转人工"), FlowMove::Human);
        assert_eq!(step(f, "reset", "解决了"), FlowMove::End);
        assert_eq!(step(f, "reset", "重置密码"), FlowMove::NotAnOption);
        assert_eq!(step(f, "login", "我想退货"), FlowMove::NotAnOption);
        assert_eq!(step(f, "gone", "登录问题"), FlowMove::End);
    }

    #[test]
    fn disabled_flows_do_not_start() {
        let mut f = account();
        f.enabled = false;
        assert_eq!(flow_started_by(&[f], "账号"), None);
    }

    #[test]
    fn bad_flows_are_refused_with_the_place_named() {
        assert!(check_flows(&[account()]).is_ok());
        let cases: Vec<(Box<dyn Fn(&mut Flow)>, &str)> = vec![
            (Box::new(|f| f.id = "账户".into()), "flows[1].id"),
            (Box::new(|f| f.triggers.clear()), "flows[1].triggers"),
            (
                Box::new(|f| f.triggers = vec!["？？".into()]),
                "flows[1].triggers",
            ),
            (Box::new(|f| f.steps.clear()), "flows[1].steps"),
            (
                Box::new(|f| f.steps[1].id = "start".into()),
                "flows[1].steps[2].id",
            ),
            (
                Box::new(|f| f.steps[0].text = " ".into()),
                "flows[1].steps[1].text",
            ),
            (
                Box::new(|f| {
                    f.steps[0].options[0].action = FlowAction::Step {
                        step: "nowhere".into(),
                    }
                }),
                "no step “nowhere”",
            ),
            (
                Box::new(|f| {
                    f.steps[2].options[0].action = FlowAction::Link {
                        url: "javascript:alert(1)".into(),
                    }
                }),
                "flows[1].steps[3].options[1]: the link",
            ),
            (
                Box::new(|f| f.steps[0].options[1].label = "登录问题".into()),
                "used twice",
            ),
        ];
        for (change, says) in cases {
            let mut f = account();
            change(&mut f);
            let err = check_flows(&[f]).unwrap_err().0;
            assert!(err.contains(says), "{err:?} should mention {says:?}");
        }
        let err = check_flows(&[account(), account()]).unwrap_err().0;
        assert!(err.contains("flows[2].id"), "{err}");
    }
}
