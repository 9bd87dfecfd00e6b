//! Hand-off detection: did the visitor ask for a human?
//!
//! This is a separate decision from matching: a message that asks for a person is handed
//! off whatever articles it resembles. A message that asks *about* the human service (its
//! hours, its phone number) is a question for the knowledge base instead, so messages with an
//! information cue (几点, 时间, 电话, hours, phone …) are not hand-offs unless the request is
//! unambiguous (转人工, "talk to a human").

use crate::text;

/// Phrases that ask for a human whatever else the message says.
const STRONG_ZH: &[&str] = &[
    "转人工",
    "转接人工",
    "接人工",
    "找人工",
    "我要人工",
    "叫人工",
    "换人工",
    "转真人",
    "找真人",
    "真人客服",
    "人工坐席",
    "真人回复",
    "活人",
    "转客服",
    "找客服",
    "叫客服",
    "我要客服",
    "接客服",
    "客服在吗",
    "客服呢",
    "不要机器人",
    "别用机器人",
    "说人话",
    "机器人听不懂",
    "不想跟机器人",
    "不和机器人",
    // complaints and escalation are for people
    "我要投诉",
    "要投诉",
    "投诉你们",
    "叫你们经理",
    "找你们经理",
    "叫经理",
    "找经理",
    "你们领导",
    "找领导",
    "叫领导",
    "你们主管",
    "找主管",
];

/// Phrases that ask for a human unless the message asks about the service (hours, phone …).
const WEAK_ZH: &[&str] = &[
    "人工客服",
    "人工服务",
    "人工",
    "真人",
    "客服",
    "投诉",
    "联系你们",
    "有人吗",
    "有没有人",
    "机器人",
];

/// English phrases (matched on lowercased words) that ask for a human.
const STRONG_EN: &[&str] = &[
    "talk to a human",
    "speak to a human",
    "talk to human",
    "speak to human",
    "real person",
    "real human",
    "talk to someone",
    "speak to someone",
    "talk to a person",
    "speak to a person",
    "talk to an agent",
    "speak to an agent",
    "live agent",
    "human agent",
    "human please",
    "transfer me",
    "connect me",
    "representative",
    "not a bot",
    "not a robot",
    "operator",
    "file a complaint",
    "make a complaint",
    "i want to complain",
    "manager",
    "supervisor",
];

/// English words that ask for a human unless there is an information cue.
const WEAK_EN: &[&str] = &[
    "human",
    "agent",
    "person",
    "someone",
    "staff",
    "customer service",
];

/// Cues that the message asks *about* the human service rather than for it.
const INFO_ZH: &[&str] = &[
    "几点",
    "时间",
    "时候",
    "上班",
    "下班",
    "电话",
    "热线",
    "营业",
    "周末",
    "节假日",
    "假期",
    "多久",
    "回复",
    "工作日",
    "在线时长",
    "号码",
    "晚上",
    "早上",
    "凌晨",
    "白天",
    "现在还",
];
const INFO_EN: &[&str] = &[
    "hour",
    "hours",
    "when",
    "time",
    "times",
    "open",
    "opening",
    "phone",
    "hotline",
    "number",
    "weekend",
    "weekends",
    "holiday",
    "holidays",
    "available",
    "availability",
    "schedule",
];

/// Decides whether a message asks for a human. Lists are public fields so that a workspace
/// can add its own phrasing; [`HandoffDetector::default`] has general Chinese and English ones.
#[derive(Debug, Clone)]
pub struct HandoffDetector {
    /// Phrases that always mean "give me a human" (Chinese: substrings; English: word runs).
    pub strong: Vec<String>,
    /// Phrases that mean it only when no information cue is present.
    pub weak: Vec<String>,
    /// Information cues ("hours", "几点") that turn weak requests into questions.
    pub info_cues: Vec<String>,
    /// A weak phrase alone counts only if the message has at most this many other content
    /// characters (Chinese) or content words ×2 (English): "人工!!" yes, "人工审核要多久" no.
    pub max_other_content: usize,
}

impl Default for HandoffDetector {
    fn default() -> Self {
        let own = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut strong = own(STRONG_ZH);
        strong.extend(own(STRONG_EN));
        let mut weak = own(WEAK_ZH);
        weak.extend(own(WEAK_EN));
        let mut info_cues = own(INFO_ZH);
        info_cues.extend(own(INFO_EN));
        Self {
            strong,
            weak,
            info_cues,
            max_other_content: 4,
        }
    }
}

/// Whether `phrase` occurs in the normalized message: substring for Chinese phrases,
/// whole-word run for Latin phrases.
fn occurs(normalized: &str, words: &[String], phrase: &str) -> bool {
    if text::contains_cjk(phrase) {
        return normalized.contains(phrase);
    }
    let parts: Vec<&str> = phrase.split_whitespace().collect();
    !parts.is_empty()
        && words.len() >= parts.len()
        && words
            .windows(parts.len())
            .any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
}

impl HandoffDetector {
    /// Whether the (raw) message asks for a human.
    pub fn is_handoff(&self, message: &str) -> bool {
        let norm = text::normalize(message);
        let words: Vec<String> = norm
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        if self.strong.iter().any(|p| occurs(&norm, &words, p)) {
            return true;
        }
        let weak: Vec<&String> = self
            .weak
            .iter()
            .filter(|p| occurs(&norm, &words, p))
            .collect();
        if weak.is_empty() || self.info_cues.iter().any(|p| occurs(&norm, &words, p)) {
            return false;
        }
        // A weak phrase counts when it is (nearly) the whole message: strip the weak phrases
        // and stopwords and see how much content is left.
        let mut rest = norm.clone();
        let mut weak_sorted = weak.clone();
        weak_sorted.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in &weak_sorted {
            if text::contains_cjk(p) {
                rest = rest.replace(p.as_str(), " ");
            }
        }
        let tokens = text::segment(&rest, text::Mode::Query);
        let mut other = 0usize;
        for t in tokens.iter().filter(|t| text::is_content(t)) {
            if t.cjk {
                other += t.text.chars().count();
            } else if !weak_sorted.iter().any(|p| text::stem(p) == t.text) {
                other += 2;
            }
        }
        other <= self.max_other_content
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_for_a_human() {
        let d = HandoffDetector::default();
        for m in [
            "转人工",
            "人工！！",
            "我要人工客服",
            "找真人，机器人听不懂",
            "客服在吗",
            "有人吗？",
            "你是机器人吧 说人话",
            "I want to talk to a human",
            "real person please",
            "agent",
            "can I speak to someone",
            "我要投诉你们的快递",
            "叫你们经理出来",
            "I want to file a complaint",
        ] {
            assert!(d.is_handoff(m), "{m}");
        }
    }

    #[test]
    fn questions_about_the_service_are_not_handoffs() {
        let d = HandoffDetector::default();
        for m in [
            "人工客服几点上班",
            "晚上11点还有人吗",
            "客服电话是多少",
            "what are your customer service hours",
            "when are agents available",
            "怎么退款",
            "收不到验证码",
            "how do I reset my password",
        ] {
            assert!(!d.is_handoff(m), "{m}");
        }
    }

    #[test]
    fn weak_phrase_inside_a_real_question_is_not_a_handoff() {
        let d = HandoffDetector::default();
        assert!(!d.is_handoff("换绑手机号需要人工审核吗 审核要等几个工作日"));
        assert!(!d.is_handoff("联系客服之后退款多久能到账"));
    }
}
