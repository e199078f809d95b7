//! Snapshot tests of the tokeniser's token streams for tricky inputs.
//! Each snapshot shows the input, then one `kind token` line per token.

use routec_classifier::tokenize::tokens_with_kinds;

fn render(input: &str) -> String {
    let mut out = format!("----- INPUT\n{input}\n----- TOKENS\n");
    for (kind, token) in tokens_with_kinds(input) {
        out.push_str(&format!("{kind:?} {token}\n"));
    }
    out
}

macro_rules! case {
    ($name:ident, $input:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), render($input));
        }
    };
}

case!(emails, "Contact anna.schmidt+billing@acme-corp.co.uk or Bob@example.COM, not @handle or a@b.");
case!(urls, "See https://app.acme.io/reports?id=42&tab=1, www.acme.io/help and (http://x.y/z).");
case!(ticket_ids, "Re: #4411 and ACME-123 (dup of ENG-9), COVID-19 ≠ 19 and 3.5 or 1,299.00 at 10:30");
case!(german_compounds, "Die Passwortzurücksetzungs-E-Mail kommt nicht an. Kundendienstmitarbeiterin: „Straße“ ÄÖÜ ß.");
case!(emoji, "Login broken 😡😡 thanks 🙏👍🏽 ❤️ family 👨‍👩‍👧 :-)");
case!(mixed_scripts, "Can't log in — 登录失败 / не могу войти / لا أستطيع / ログインできません ok");
case!(apostrophes, "I can’t get into my account, it's the user's fault? 'quoted' rock'n'roll");
case!(empty_and_symbols, "  ---  !!! *** ... $$$ ");

case!(backtracking_edges, "john.doe went to e.g. v1.2.3; users' data, tel_num, http: www is 2fa @handle a@b.");
