//! Development tool: evaluates the lexical matcher on an FAQ question set, on the two halves
//! (even lines = A, used for design; odd lines = B, held out) and on the whole set.
//!
//! ```text
//! cargo run --release -p parley-kb --example faq_eval -- [DIR] [--sweep]
//!     [--explain a|b|all] [--dump a|b|all] [--features out.tsv]
//! ```
//!
//! `--sweep` prints figures for thresholds 0.20–0.80, `--explain` every miss with its units
//! and top candidates, `--dump` every question sorted by confidence, `--features` one TSV
//! row per question (for calibration experiments).
//!
//! `DIR` defaults to the shared evaluation set. Config fields can be overridden for
//! experiments with `KB_CFG="bigram_weight=0.4,body_strength=0.7"`.

use std::path::PathBuf;
use std::time::Instant;

use parley_kb::eval::{self, Question};
use parley_kb::{LexicalMatcher, Matcher, MatcherConfig};

fn config_from_env() -> MatcherConfig {
    let mut c = MatcherConfig::default();
    let Ok(spec) = std::env::var("KB_CFG") else {
        return c;
    };
    for kv in spec.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').expect("KB_CFG entries are key=value");
        let v: f32 = v.parse().expect("KB_CFG values are numbers");
        match k {
            "threshold" => c.threshold = v,
            "title_weight" => c.title_weight = v,
            "keywords_weight" => c.keywords_weight = v,
            "body_weight" => c.body_weight = v,
            "k1" => c.k1 = v,
            "b" => c.b = v,
            "char_weight" => c.char_weight = v,
            "body_strength" => c.body_strength = v,
            "char_credit" => c.char_credit = v,
            "bigram_weight" => c.bigram_weight = v,
            "unknown_word_weight" => c.unknown_word_weight = v,
            "single_char_weight" => c.single_char_weight = v,
            "related_ratio" => c.related_ratio = v,
            other => panic!("unknown config field {other}"),
        }
    }
    c
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../eval/faq");
    let mut explain: Option<String> = None;
    let mut sweep = false;
    let mut dump: Option<String> = None;
    let mut features: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--explain" => explain = args.next(),
            "--sweep" => sweep = true,
            "--dump" => dump = args.next(),
            "--features" => features = args.next(),
            _ => dir = PathBuf::from(a),
        }
    }
    let (articles, questions) = eval::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));

    let t = Instant::now();
    let matcher = LexicalMatcher::builder(articles.clone())
        .config(config_from_env())
        .build();
    let build = t.elapsed();
    // Second build: the jieba dictionary is already loaded.
    let t = Instant::now();
    let _again = LexicalMatcher::builder(articles.clone())
        .config(config_from_env())
        .build();
    let rebuild = t.elapsed();

    let half = |parity: usize| -> Vec<Question> {
        questions
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, q)| q.clone())
            .collect()
    };
    let sets = [("A", half(0)), ("B", half(1)), ("all", questions.clone())];

    let t = Instant::now();
    let _ = eval::run(&matcher, &questions);
    let per_q = t.elapsed() / questions.len() as u32;
    println!(
        "first build (incl. jieba dictionary) {build:?}, rebuild {rebuild:?}, {per_q:?} per question"
    );

    let thr = matcher.threshold();
    for (name, qs) in &sets {
        let run = eval::run(&matcher, qs);
        let r = run.report(&articles, thr);
        println!(
            "half {name:<3} top-1 {:.4} ({}/{}) wrong-on-unanswerable {:.4} ({}/{})  in-candidates {}",
            r.overall.top1,
            r.overall.correct,
            r.overall.answerable,
            r.overall.wrong_on_unanswerable,
            r.overall.wrongly_answered,
            r.overall.unanswerable,
            r.overall.in_candidates
        );
        for (loc, f) in &r.per_locale {
            println!(
                "      {loc}  top-1 {:.4} ({}/{}) wrong {:.4} ({}/{})",
                f.top1,
                f.correct,
                f.answerable,
                f.wrong_on_unanswerable,
                f.wrongly_answered,
                f.unanswerable
            );
        }
        if sweep {
            let ts: Vec<f32> = (4..=16).map(|i| i as f32 * 0.05).collect();
            for (t, top1, wrong) in run.sweep(&articles, &ts) {
                println!("    t={t:.2} top1={top1:.3} wrong={wrong:.3}");
            }
        }
        if dump.as_deref() == Some(&name.to_lowercase()) {
            let mut rows = Vec::new();
            for (q, ranking) in &run.items {
                let ex = matcher.explain(&q.q, None);
                let best = ranking.candidates.first();
                let ok = match (&q.expected, best) {
                    (None, _) => "NULL",
                    (Some(e), Some(b)) if *e == b.article_id => "ok",
                    (Some(e), Some(b))
                        if articles
                            .iter()
                            .any(|a| a.id == b.article_id && a.same_topic.contains(e)) =>
                    {
                        "ok"
                    }
                    _ => "WRONG",
                };
                let (cov, conf) = ex
                    .top
                    .first()
                    .map(|t| (t.coverage, t.confidence))
                    .unwrap_or((0.0, 0.0));
                let s2 = ex.top.get(1).map(|t| t.score).unwrap_or(0.0);
                let s1 = ex.top.first().map(|t| t.score).unwrap_or(0.0);
                rows.push((
                    conf,
                    format!(
                        "{ok:<5} conf {conf:.2} cov {cov:.2} s1 {s1:.1} s2 {s2:.1} {}",
                        q.q
                    ),
                ));
            }
            rows.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (_, r) in rows {
                println!("  {r}");
            }
        }
        if explain.as_deref() == Some(&name.to_lowercase()) {
            for m in &r.misses {
                println!(
                    "\n[{}] {}  expected {:?}  got {:?}",
                    m.locale, m.question, m.expected, m.answer
                );
                let ex = matcher.explain(&m.question, None);
                println!("   {}  units: {:?}", ex.normalized, ex.units);
                for c in ex.top.iter().take(3) {
                    println!(
                        "   {} score {:.2} cov {:.2} conf {:.2} {:?}",
                        c.article_id, c.score, c.coverage, c.confidence, c.matched
                    );
                }
            }
        }
    }
    if let Some(path) = features {
        // One TSV row per question: half, label, features of the best candidate.
        let mut out = String::from("half\tlabel\tcoverage\tmargin\tscore\tq\n");
        for (i, q) in questions.iter().enumerate() {
            let ex = matcher.explain(&q.q, None);
            let handoff = matcher.rank(&q.q, None).handoff;
            let best = ex.top.first();
            let label = match (&q.expected, best) {
                (None, _) => 0,
                (Some(e), Some(b)) => articles
                    .iter()
                    .any(|a| a.id == b.article_id && (a.id == *e || a.same_topic.contains(e)))
                    as i32,
                _ => 0,
            };
            let label = if handoff { -1 } else { label };
            let (c, m, s) = best
                .map(|b| (b.coverage, b.margin, b.score))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}\t{label}\t{c}\t{m}\t{s}\t{}\n",
                if i % 2 == 0 { "A" } else { "B" },
                q.q
            ));
        }
        std::fs::write(path, out).expect("write features");
    }
}
