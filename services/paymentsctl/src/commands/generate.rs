//! `paymentsctl generate`: deterministic payments to stdout or a file.

use crate::cli::{GenerateArgs, GenerateFormat};
use anyhow::Context;
use payments_core::names::parse_payment_type;
use payments_core::seed_json::to_seed;
use payments_core::time::parse_instant;
use payments_generator::{GeneratorConfig, PaymentGenerator};
use std::io::{BufWriter, Write};

/// Rails named on the command line.
pub fn parse_types(names: &[String]) -> anyhow::Result<Vec<payments_core::pb::PaymentType>> {
    names
        .iter()
        .map(|n| {
            parse_payment_type(n).with_context(|| {
                format!("--type {n:?} is not a payment type (ach, wire, rtp, check, sepa, card, direct-debit, standing-order, p2p)")
            })
        })
        .collect()
}

/// Writes `--count` payments in `--format`. A reader that stops early (`| head`) ends the
/// run quietly, as Unix tools do.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    match write_payments(&args) {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// Whether the reader of our output went away (directly, or under a JSON write).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    let broken = |kind: Option<std::io::ErrorKind>| kind == Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|cause| {
        broken(
            cause
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
        ) || broken(
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        )
    })
}

fn write_payments(args: &GenerateArgs) -> anyhow::Result<()> {
    let mut config = GeneratorConfig {
        seed: args.seed,
        types: parse_types(&args.types)?,
        ..Default::default()
    };
    if let Some(start) = &args.start {
        config.start = parse_instant(start)
            .with_context(|| format!("--start {start:?} is not RFC 3339 or YYYY-MM-DD"))?;
    }
    let generator = PaymentGenerator::new(config);
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    match args.format {
        GenerateFormat::Jsonl => {
            for i in 0..args.count {
                serde_json::to_writer(&mut out, &generator.payment(i))?;
                out.write_all(b"\n")?;
            }
        }
        GenerateFormat::SeedJson => {
            out.write_all(b"{\"transactions\": [\n")?;
            for i in 0..args.count {
                if i > 0 {
                    out.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut out, &to_seed(&generator.payment(i)))?;
            }
            out.write_all(b"\n]}\n")?;
        }
    }
    out.flush()?;
    if let Some(path) = &args.out {
        eprintln!("wrote {} payments to {}", args.count, path.display());
    }
    Ok(())
}
