//! The `sentiment` signal: how positive or negative a ticket reads, in -1..=1.
//!
//! Owns a small lexicon scorer for English and German support language in
//! the style of VADER: word valences in -3..3, negation (`not`, `can't`,
//! `nicht`, `kein` … within the three preceding words) flips and damps a
//! valence, intensifiers (`very`, `sehr` …) scale the next one, a few emoji
//! count, and the sum `s` is squashed with `s / sqrt(s² + 15)`. It knows
//! nothing about models; see docs/classifier.md for measured accuracy.

use crate::tokenize::{for_each_token, TokenKind};

/// Sentiment of `text` in -1 (very negative) ..= 1 (very positive); 0 when
/// no sentiment-bearing words are found.
pub fn sentiment(text: &str) -> f64 {
    let mut sum = 0.0f64;
    let mut since_negation = usize::MAX;
    let mut boost = 1.0f64;
    let mut buf = String::new();
    for_each_token(text, &mut buf, |kind, token| {
        if kind != TokenKind::Word && kind != TokenKind::Emoji {
            since_negation = since_negation.saturating_add(1);
            return;
        }
        if is_negator(token) {
            since_negation = 0;
            return;
        }
        if let Some(factor) = intensifier(token) {
            boost = factor;
            return;
        }
        let valence = valence(token);
        if valence != 0.0 {
            let negated = since_negation < 3;
            sum += valence * boost * if negated { -0.74 } else { 1.0 };
        }
        boost = 1.0;
        since_negation = since_negation.saturating_add(1);
    });
    if sum == 0.0 {
        0.0
    } else {
        (sum / (sum * sum + 15.0).sqrt()).clamp(-1.0, 1.0)
    }
}

fn is_negator(word: &str) -> bool {
    matches!(
        word,
        "not"
            | "no"
            | "never"
            | "can't"
            | "cannot"
            | "don't"
            | "doesn't"
            | "didn't"
            | "isn't"
            | "wasn't"
            | "won't"
            | "aren't"
            | "couldn't"
            | "haven't"
            | "hasn't"
            | "nothing"
            | "without"
            | "nicht"
            | "kein"
            | "keine"
            | "keinen"
            | "keiner"
            | "nie"
            | "niemals"
            | "ohne"
            | "nichts"
    )
}

fn intensifier(word: &str) -> Option<f64> {
    match word {
        "very" | "really" | "extremely" | "so" | "totally" | "absolutely" | "completely" | "super" | "incredibly"
        | "sehr" | "total" | "extrem" | "wirklich" | "völlig" | "absolut" => Some(1.4),
        "slightly" | "somewhat" | "bit" | "etwas" | "leicht" => Some(0.6),
        _ => None,
    }
}

fn valence(word: &str) -> f64 {
    match word {
        // English, positive.
        "thanks" | "thank" | "appreciated" | "appreciate" | "glad" | "fixed" | "resolved" | "solved" => 1.5,
        "great" | "excellent" | "awesome" | "amazing" | "perfect" | "love" | "fantastic" | "wonderful"
        | "brilliant" | "outstanding" => 3.0,
        "good" | "nice" | "happy" | "helpful" | "pleased" | "smooth" | "easy" | "satisfied" | "quick" | "fast"
        | "recommend" | "impressed" | "enjoy" => 2.0,
        "works" | "working" | "work" | "worked" | "like" | "fine" | "ok" | "okay" | "useful" | "better" => 0.9,
        // English, negative.
        "terrible" | "awful" | "horrible" | "worst" | "hate" | "disaster" | "unacceptable" | "furious"
        | "disgusting" | "scam" => -3.0,
        "angry" | "frustrated" | "frustrating" | "disappointed" | "disappointing" | "ridiculous" | "useless"
        | "annoying" | "annoyed" | "upset" | "bad" | "poor" | "broken" | "impossible" => -2.3,
        "error" | "errors" | "fail" | "fails" | "failed" | "failing" | "failure" | "crash" | "crashes" | "crashed"
        | "wrong" | "lost" | "stuck" | "unable" | "bug" | "outage" | "down" | "slow" | "declined" | "overdue"
        | "locked" | "denied" | "missing" | "confusing" | "worse" => -1.4,
        "problem" | "problems" | "issue" | "issues" | "urgent" | "unfortunately" | "cancel" | "complaint" | "delay"
        | "delayed" | "waiting" | "unexpected" | "twice" | "spins" | "forever" => -0.8,
        // German, positive.
        "danke" | "dank" | "gelöst" | "behoben" | "freue" => 1.5,
        "toll" | "super" | "perfekt" | "ausgezeichnet" | "hervorragend" | "großartig" | "klasse" | "wunderbar" => 3.0,
        "gut" | "hilfreich" | "zufrieden" | "prima" | "schnell" | "einfach" | "gerne" | "froh" => 2.0,
        "funktioniert" | "funktionieren" | "läuft" | "besser" => 0.9,
        // German, negative.
        "furchtbar" | "schrecklich" | "katastrophe" | "katastrophal" | "unzumutbar" | "inakzeptabel" | "miserabel" => {
            -3.0
        }
        "ärgerlich" | "enttäuscht" | "enttäuschend" | "verärgert" | "frustriert" | "schlecht" | "kaputt"
        | "nutzlos" | "unmöglich" => -2.3,
        "fehler" | "absturz" | "abgestürzt" | "falsch" | "fehlgeschlagen" | "langsam" | "gesperrt" | "verloren"
        | "ausfall" | "fehlt" | "abgelehnt" | "überfällig" => -1.4,
        "probleme" | "leider" | "dringend" | "störung" | "kündigen" | "beschwerde" | "endlos" | "doppelt" => -0.8,
        _ => emoji_valence(word),
    }
}

fn emoji_valence(token: &str) -> f64 {
    match token {
        "😀" | "😃" | "😄" | "😊" | "🙂" | "👍" | "🎉" | "❤" | "😍" | "🥳" => 2.0,
        "🙏" => 1.0,
        "😕" | "😟" | "🙁" | "😞" | "😩" | "😢" | "😭" | "👎" => -2.0,
        "😡" | "😠" | "🤬" | "💩" => -3.0,
        _ => 0.0,
    }
}
