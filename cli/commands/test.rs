//! `routec test`: run the `test` blocks of policies.

use crate::commands::policies;
use crate::render;
use routec_runtime::{Policy, PolicyError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Policy files whose tests to run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Never colour the output.
    #[arg(long)]
    pub no_color: bool,
    /// The engine that decides (both give identical decisions).
    #[arg(long, value_enum, default_value = "jit")]
    pub engine: crate::commands::EngineArg,
}

pub fn run(args: &TestArgs) -> ExitCode {
    let color = !args.no_color && crate::stderr_is_terminal();
    let mut passed = 0;
    let mut failed = 0;
    let mut broken = false;
    let (targets, unreadable) = policies::distinct(&args.files, "tested");
    broken |= unreadable;
    for target in targets {
        let path = &target.policy;
        let policy = match Policy::load(path).map(|p| p.with_engine(args.engine.into())) {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                broken = true;
                continue;
            }
            Err(PolicyError::Compile(analysis)) => {
                for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
                    eprint!("{}", render::human::render(&analysis.db, d, color));
                }
                eprintln!("error: `{}` does not compile; its tests were not run", path.display());
                broken = true;
                continue;
            }
            Err(e) => {
                eprintln!("error: {e}");
                broken = true;
                continue;
            }
        };
        let outcomes = policy.run_tests();
        println!("running {} tests from {}", outcomes.len(), path.display());
        for o in &outcomes {
            if o.passed {
                passed += 1;
                println!("test {} ... ok", o.name);
            } else {
                failed += 1;
                println!("test {} ... FAILED", o.name);
                println!("  --> {}", o.location);
                if let Some(err) = &o.error {
                    println!("  the test ticket is invalid: {err}");
                } else {
                    println!("  expected: {}", o.expected);
                    println!("  actual:   {}", o.actual);
                    if let Some(d) = &o.decision {
                        for line in d.explain().lines() {
                            println!("  | {line}");
                        }
                    }
                }
            }
        }
    }
    println!();
    println!("test result: {passed} passed, {failed} failed");
    if failed > 0 || broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
