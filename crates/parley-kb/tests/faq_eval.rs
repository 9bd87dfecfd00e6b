//! Runs the full FAQ evaluation set (eval/faq in the repository, a copy of the product brief's
//! set) and checks the quality bar at the shipped default threshold: top-1 ≥ 85 % on answerable questions and
//! at most 10 % of unanswerable questions answered.

use std::path::PathBuf;
use std::time::Instant;

use parley_kb::eval::{self, Question};
use parley_kb::{LexicalMatcher, Matcher};

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/faq");
    assert!(
        dir.join("kb.jsonl").is_file() && dir.join("dev.jsonl").is_file(),
        "FAQ evaluation data not found: expected kb.jsonl and dev.jsonl in {} \
         (eval/faq at the repository root)",
        dir.display()
    );
    dir
}

#[test]
fn faq_eval_meets_the_quality_bar() {
    let (articles, questions) = eval::load_dir(&data_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(articles.len(), 48);
    assert_eq!(questions.len(), 240);

    let t = Instant::now();
    let matcher = LexicalMatcher::builder(articles.clone()).build();
    let built = t.elapsed();
    let t = Instant::now();
    let report = eval::evaluate(&matcher, &articles, &questions);
    let per_question = t.elapsed() / questions.len() as u32;
    println!("{}", report.to_text());
    println!("build {built:?} (first one loads jieba's dictionary), {per_question:?} per question");

    // The two halves used for design (even lines) and confirmation (odd lines).
    for (name, parity) in [("A (even lines)", 0), ("B (odd lines)", 1)] {
        let half: Vec<Question> = questions
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, q)| q.clone())
            .collect();
        let r = eval::evaluate(&matcher, &articles, &half);
        println!("half {name}: {}", r.summary_json());
    }

    let last = report.to_text().lines().last().unwrap().to_string();
    let summary: serde_json::Value = serde_json::from_str(&last).expect("last line is JSON");
    assert_eq!(summary["answerable"], 205);
    assert_eq!(summary["unanswerable"], 35);
    assert!(
        report.meets(0.85, 0.10),
        "quality bar missed at threshold {}: top-1 {:.4} (need >= 0.85), wrong on unanswerable \
         {:.4} (need <= 0.10)",
        matcher.threshold(),
        report.overall.top1,
        report.overall.wrong_on_unanswerable
    );
}
