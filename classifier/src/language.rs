//! The `language` signal: which of English, German, French or Spanish a
//! ticket is written in.
//!
//! Owns a small, dependency-free detector: high-frequency function words
//! per language (from the shared tokeniser) plus language-specific letters
//! (ä ö ü ß, ç è ê œ, ñ ¿ ¡). It answers `"und"` (undetermined) when the text
//! has too little evidence or two languages tie. It knows nothing about
//! models; see docs/classifier.md for measured accuracy.

use crate::tokenize::{for_each_token, TokenKind};

const LANGS: [&str; 4] = ["en", "de", "fr", "es"];

/// Detects the language of `text`: `"en"`, `"de"`, `"fr"`, `"es"` or `"und"`.
pub fn detect_language(text: &str) -> &'static str {
    let mut scores = [0.0f64; 4];
    let mut buf = String::new();
    for_each_token(text, &mut buf, |kind, token| {
        if kind != TokenKind::Word {
            return;
        }
        for (score, hit) in scores.iter_mut().zip([is_en(token), is_de(token), is_fr(token), is_es(token)]) {
            if hit {
                *score += 1.0;
            }
        }
    });
    for ch in text.chars() {
        let lang = match ch {
            'ä' | 'ö' | 'ü' | 'ß' | 'Ä' | 'Ö' | 'Ü' => 1,
            'ç' | 'è' | 'ê' | 'œ' | 'à' | 'ù' | 'î' | 'ô' | 'â' | 'ë' | 'ï' => 2,
            'ñ' | '¿' | '¡' | 'á' | 'í' | 'ó' | 'ú' => 3,
            _ => continue,
        };
        scores[lang] += 0.5;
    }
    let mut best = 0;
    for idx in 1..4 {
        if scores[idx] > scores[best] {
            best = idx;
        }
    }
    let runner_up = (0..4).filter(|&i| i != best).map(|i| scores[i]).fold(0.0, f64::max);
    if scores[best] >= 1.5 && scores[best] > runner_up {
        LANGS[best]
    } else {
        "und"
    }
}

fn is_en(word: &str) -> bool {
    matches!(
        word,
        "the"
            | "and"
            | "is"
            | "are"
            | "to"
            | "of"
            | "my"
            | "i"
            | "you"
            | "it"
            | "this"
            | "that"
            | "not"
            | "can't"
            | "with"
            | "for"
            | "have"
            | "has"
            | "was"
            | "we"
            | "our"
            | "please"
            | "can"
            | "be"
            | "on"
            | "at"
            | "from"
            | "but"
            | "what"
            | "how"
            | "why"
            | "when"
            | "there"
            | "would"
            | "could"
            | "your"
            | "me"
            | "an"
            | "will"
            | "been"
            | "just"
            | "do"
            | "does"
            | "don't"
            | "i'm"
            | "it's"
            | "they"
            | "which"
            | "about"
            | "hello"
            | "thanks"
            | "thank"
            | "hi"
            | "into"
            | "get"
            | "cannot"
    )
}

fn is_de(word: &str) -> bool {
    matches!(
        word,
        "der"
            | "die"
            | "das"
            | "und"
            | "ist"
            | "nicht"
            | "ich"
            | "wir"
            | "sie"
            | "ein"
            | "eine"
            | "mit"
            | "auf"
            | "für"
            | "von"
            | "zu"
            | "den"
            | "dem"
            | "des"
            | "es"
            | "bitte"
            | "kann"
            | "können"
            | "haben"
            | "hat"
            | "wird"
            | "werden"
            | "mein"
            | "meine"
            | "unser"
            | "unsere"
            | "ihr"
            | "ihre"
            | "aber"
            | "oder"
            | "auch"
            | "noch"
            | "nur"
            | "wie"
            | "was"
            | "warum"
            | "wenn"
            | "dass"
            | "bei"
            | "nach"
            | "sich"
            | "sind"
            | "war"
            | "danke"
            | "hallo"
            | "leider"
            | "seit"
            | "kein"
            | "keine"
            | "im"
            | "mehr"
            | "einen"
            | "einer"
            | "uns"
    )
}

fn is_fr(word: &str) -> bool {
    matches!(
        word,
        "le" | "la"
            | "les"
            | "et"
            | "est"
            | "je"
            | "nous"
            | "vous"
            | "un"
            | "une"
            | "des"
            | "du"
            | "de"
            | "pour"
            | "pas"
            | "ne"
            | "avec"
            | "sur"
            | "dans"
            | "mon"
            | "ma"
            | "mes"
            | "notre"
            | "votre"
            | "il"
            | "elle"
            | "qui"
            | "que"
            | "mais"
            | "ou"
            | "au"
            | "aux"
            | "ce"
            | "cette"
            | "c'est"
            | "j'ai"
            | "n'est"
            | "merci"
            | "bonjour"
            | "depuis"
            | "très"
            | "peut"
            | "sont"
            | "avons"
            | "être"
            | "avoir"
            | "plus"
            | "ça"
            | "n'arrive"
            | "d'accès"
            | "l'application"
            | "compte"
    )
}

fn is_es(word: &str) -> bool {
    matches!(
        word,
        "el" | "la"
            | "los"
            | "las"
            | "y"
            | "es"
            | "no"
            | "yo"
            | "un"
            | "una"
            | "de"
            | "del"
            | "para"
            | "con"
            | "en"
            | "por"
            | "que"
            | "mi"
            | "mis"
            | "nuestro"
            | "nuestra"
            | "su"
            | "pero"
            | "o"
            | "al"
            | "se"
            | "lo"
            | "este"
            | "esta"
            | "está"
            | "están"
            | "hola"
            | "gracias"
            | "puedo"
            | "puede"
            | "tengo"
            | "tenemos"
            | "cuenta"
            | "cuando"
            | "como"
            | "muy"
            | "desde"
            | "también"
            | "hay"
            | "son"
            | "ser"
            | "sin"
            | "favor"
    )
}
