use routec_compiler::*;
fn main() {
    let src = r#"policy "p" version 1
ticket { id: string  subject: text  tier: free | pro | enterprise  health: number? }
team a
team b
keywords k = ["x"]
priority { P1 when tier == enterprise or health < 10 
 default P3 }
rule r0 when tier in [pro, enterprise] and not subject has k -> a
rule r1 when health >= 50.5 or priority == P1 -> b rollout 25%
otherwise -> a
"#;
    let mut db = SourceDb::new();
    let root = db.add("p.route", src);
    let c = compile(db, root, &NoImports).unwrap_or_else(|_| panic!("x"));
    println!("{}", c.program);
    let j = jit::JitPolicy::compile_with(&c.program, &jit::JitOptions { opt_level: jit::OptLevel::None }).unwrap();
    println!("{:?}", j);
}
