//! SCRATCH (delete before finishing): runs tests/fmt.rs from the compiler package.
#[path = "../../tests/fmt.rs"]
mod fmt;

#[test]
fn show() {
    if let Ok(p) = std::env::var("FMT_SHOW") {
        let s = std::fs::read_to_string(&p).unwrap();
        match routec_compiler::fmt::format(&s) {
            Ok(t) => print!("{t}"),
            Err(e) => println!("ERROR {e:?}"),
        }
    }
}
