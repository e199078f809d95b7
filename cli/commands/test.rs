//! `routec test`: run the `test` blocks of policies.

use crate::commands::policies;
use crate::commands::route::load_policy;
use crate::exit::{CliError, ExitCode, Outcome};
use crate::output::Output;
use routec_runtime::LoadOptions;
use std::path::PathBuf;

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
    /// The directory imports and classifier models must stay inside
    /// (default: each policy's own directory).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

pub fn run(args: &TestArgs, outcome: &mut Outcome) -> Result<(), CliError> {
    let color = !args.no_color && crate::stderr_is_terminal();
    let mut out = Output::stdout();
    let mut passed = 0;
    let mut failed = 0;
    let targets = policies::distinct(&args.files, "tested", |e| outcome.failed(e));
    for target in targets {
        let path = &target.policy;
        // Test blocks give their tickets' signals, so a model file is not needed.
        let options = LoadOptions::default().root(args.root.clone()).tickets_bring_signals(true);
        let loaded = load_policy(path, &options, color, Some("its tests were not run"))
            .and_then(|p| p.with_engine(args.engine.into()).map_err(CliError::Engine));
        let policy = match loaded {
            Ok(p) => p,
            Err(e) => {
                outcome.carry_on(Err(e))?;
                continue;
            }
        };
        let outcomes = policy.run_tests();
        writeln!(out, "running {} tests from {}", outcomes.len(), path.display())?;
        for o in &outcomes {
            if o.passed {
                passed += 1;
                writeln!(out, "test {} ... ok", o.name)?;
            } else {
                failed += 1;
                outcome.earn(ExitCode::Findings);
                writeln!(out, "test {} ... FAILED", o.name)?;
                writeln!(out, "  --> {}", o.location)?;
                if let Some(err) = &o.error {
                    writeln!(out, "  the test ticket is invalid: {err}")?;
                } else {
                    writeln!(out, "  expected: {}", o.expected)?;
                    writeln!(out, "  actual:   {}", o.actual)?;
                    if let Some(d) = &o.decision {
                        for line in d.explain().lines() {
                            writeln!(out, "  | {line}")?;
                        }
                    }
                }
            }
        }
    }
    writeln!(out)?;
    writeln!(out, "test result: {passed} passed, {failed} failed")?;
    Ok(())
}
