//! Development tool: explains how the matcher treats questions read from stdin.
use std::io::BufRead;
use std::path::PathBuf;

use parley_kb::{eval, LexicalMatcher, Matcher};

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/faq");
    let (articles, _) = eval::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let m = LexicalMatcher::builder(articles).build();
    for line in std::io::stdin().lock().lines() {
        let q = line.unwrap();
        let ex = m.explain(&q, None);
        println!(
            "{q}\n  {} -> {:?}\n  {:?}",
            ex.normalized,
            m.answer(&q, None),
            ex.units
        );
        for c in ex.top.iter().take(3) {
            println!(
                "   {} score {:.2} cov {:.2} {:?}",
                c.article_id, c.score, c.coverage, c.matched
            );
        }
    }
}
