//! `paymentsctl generate`: deterministic payments to stdout or a file, then the seed's
//! summary of them on stderr.

use super::generate_parallel::{Observers, write_in_parallel};
use super::generate_summary::GenerationSummary;
use crate::cli::GenerateArgs;
use crate::direct_file::DirectFileWriter;
use crate::interrupt::{Interrupt, Interrupted};
use crate::write_behind::WriteBehindFile;
use anyhow::Context;
use payments_core::names::parse_payment_type;
use payments_core::pb::PaymentType;
use payments_core::time::parse_instant;
use payments_formats::{Format, FormatError, PaymentWriter};
use payments_generator::generator::check_start;
use payments_generator::scenario_file::Scenario;
use payments_generator::scenarios::MAX_RATE;
use payments_generator::shard::Shard;
use payments_generator::truth::TruthCollector;
use payments_generator::{GeneratorConfig, LifecycleStream, PaymentGenerator};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The rails in the order the seed's generate_transactions.py wrote them.
const SEED_RAIL_ORDER: [PaymentType; 9] = [
    PaymentType::Ach,
    PaymentType::Wire,
    PaymentType::Check,
    PaymentType::Rtp,
    PaymentType::Sepa,
    PaymentType::Card,
    PaymentType::DirectDebit,
    PaymentType::StandingOrder,
    PaymentType::P2p,
];

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
/// run quietly, as Unix tools do. Ctrl-C (or SIGTERM) stops it after a whole record, with the
/// output closed as the format requires (the seed's document, a NACHA file's trailer), and
/// says how many payments it holds.
pub fn run(mut args: GenerateArgs) -> anyhow::Result<()> {
    if args.out.as_deref() == Some(Path::new("-")) {
        args.out = None;
    }
    match write_payments(&args) {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// Whether the reader of our output went away (directly, or under a JSON write).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    let broken = |kind: Option<std::io::ErrorKind>| kind == Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|cause| {
        let format_io = cause.downcast_ref::<FormatError>().and_then(|e| match e {
            FormatError::Io(io) => Some(io.kind()),
            _ => None,
        });
        broken(
            cause
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
        ) || broken(
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        ) || broken(format_io)
    })
}

fn write_payments(args: &GenerateArgs) -> anyhow::Result<()> {
    let mut config = GeneratorConfig {
        seed: args.seed,
        types: parse_types(&args.types)?,
        ..Default::default()
    };
    if let Some(preset) = args.preset {
        preset.apply(&mut config);
    }
    if let Some(interval_ms) = args.interval_ms {
        anyhow::ensure!(
            interval_ms.is_finite() && (0.001..=86_400_000.0).contains(&interval_ms),
            "--interval-ms must be between 0.001 and 86400000 (one day), got {interval_ms}"
        );
        config.spacing_micros = (interval_ms * 1_000.0).round() as i64;
    }
    if let Some(rate) = args.scenario_rate {
        anyhow::ensure!(
            (0.0..=MAX_RATE).contains(&rate),
            "--scenario-rate is the share of payments that are laundering: between 0 and {MAX_RATE}, got {rate}"
        );
        config.scenario_rate = rate;
    }
    if let Some(customers) = args.customers {
        config.customers = customers;
    }
    if let Some(start) = &args.start {
        config.start = parse_instant(start)
            .with_context(|| format!("--start {start:?} is not RFC 3339 or YYYY-MM-DD"))?;
        check_start(config.start).context("--start")?;
    }
    let scenario = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::default(),
    };
    anyhow::ensure!(
        !scenario.sets_mix() || args.types.is_empty(),
        "--type and the scenario file's [mix] both choose the rails; use one of them"
    );
    scenario.apply(&mut config);
    // With --per-type, the run is that many payments of each rail, rail after rail.
    let rails = match args.per_type {
        Some(_) if config.types.is_empty() => SEED_RAIL_ORDER.len() as u64,
        Some(_) => config.types.len() as u64,
        None => 0,
    };
    let count = match args.per_type {
        Some(per_type) => per_type.saturating_mul(rails),
        None => scenario.count.unwrap_or(args.count),
    };
    let lifecycle = scenario.lifecycle.unwrap_or(args.lifecycle);
    anyhow::ensure!(
        (27..=10_000_000).contains(&config.customers),
        "customers must be between 27 and 10,000,000, got {}",
        config.customers
    );
    // The last payment's simulated time must stay in range too (settlements and returns
    // add days past it).
    let interval_ms = config.spacing_micros as f64 / 1_000.0;
    let last = config
        .start
        .checked_add_signed(chrono::Duration::microseconds(
            config.spacing_micros.saturating_mul(count as i64),
        ))
        .map(|t| t + chrono::Duration::days(120));
    match last {
        Some(last) => check_start(last).map_err(|_| {
            anyhow::anyhow!("{count} payments {interval_ms} ms apart run past the year 2199; lower --count or --interval-ms")
        })?,
        None => anyhow::bail!("{count} payments {interval_ms} ms apart run past the representable dates"),
    }
    anyhow::ensure!(
        lifecycle || !args.format.describes_lifecycles(),
        "--format {} holds what payment lifecycles produce (returns, status reports, statements); add --lifecycle (or lifecycle = true in the scenario file)",
        Format::ALL
            .iter()
            .find(|(_, f)| *f == args.format)
            .map_or("", |(name, _)| *name)
    );
    anyhow::ensure!(
        args.per_type.is_none() || args.shard == Shard::ALL,
        "--per-type writes every rail into one output; it does not take --shard"
    );
    anyhow::ensure!(
        !args.direct_io || args.out.is_some(),
        "--direct-io writes a file past the page cache; give the file with --out FILE"
    );
    let creating = |path: &Path| format!("creating {}", path.display());
    // Each buffers what it is given (the direct writer in whole blocks of its own). A file
    // through the page cache is handed to the disk as it is written, and leaves the cache.
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) if args.direct_io => {
            Box::new(DirectFileWriter::create(path).with_context(|| creating(path))?)
        }
        Some(path) => Box::new(BufWriter::with_capacity(
            1 << 20,
            WriteBehindFile::new(std::fs::File::create(path).with_context(|| creating(path))?)
                .with_context(|| creating(path))?,
        )),
        // Standard output redirected to a file (`> FILE`) is written as --out FILE is.
        None => match WriteBehindFile::stdout() {
            Some(file) => Box::new(BufWriter::with_capacity(1 << 20, file)),
            None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
        },
    };
    let interrupt = Interrupt::watch();
    let mut writer = PaymentWriter::new(args.format, &mut out)?;
    let payments = args.shard.len(count);
    let mut truth = TruthCollector::default();
    let mut summary = GenerationSummary::default();
    summary.set_target(config.scenario_rate);
    if let Some(per_type) = args.per_type {
        let rails = if config.types.is_empty() {
            SEED_RAIL_ORDER.to_vec()
        } else {
            config.types.clone()
        };
        let mut progress = Progress::new(Some(count), args.out.is_some() && count >= 100_000);
        let mut n = 0;
        'rails: for (r, rail) in rails.into_iter().enumerate() {
            // Each rail is a block of payment numbers of its own, so ids and times differ
            // from the other rails' as they would in one run.
            let generator = PaymentGenerator::new(GeneratorConfig {
                types: vec![rail],
                ..config.clone()
            });
            let first = per_type.saturating_mul(r as u64);
            for i in first..first.saturating_add(per_type) {
                if interrupt.requested() {
                    break 'rails;
                }
                let payment = generator.payment(i);
                truth.observe(&payment);
                summary.observe(&payment);
                writer.push(payment)?;
                n += 1;
                progress.tick(n);
            }
        }
        progress.done();
    } else if lifecycle {
        // Every revision of every payment, in simulated-time order; the record count is
        // known only at the end.
        let mut progress = Progress::new(None, args.out.is_some() && payments >= 100_000);
        let generator = PaymentGenerator::new(config);
        let stream =
            LifecycleStream::new(generator, scenario.rates.clone(), args.shard.indices(count));
        for (n, revision) in stream.enumerate() {
            if interrupt.requested() {
                break;
            }
            truth.observe(&revision);
            summary.observe(&revision);
            writer.push(revision)?;
            progress.tick(n as u64 + 1);
        }
        progress.done();
    } else {
        let generator = PaymentGenerator::new(config);
        let mut progress = Progress::new(Some(payments), args.out.is_some() && payments >= 100_000);
        let jobs = match args.jobs {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            jobs => jobs,
        };
        if jobs > 1 {
            let observers = Observers {
                summary: &mut summary,
                truth: &mut truth,
                progress: &mut |written| progress.tick(written),
            };
            write_in_parallel(
                &generator,
                args.shard.indices(count),
                jobs,
                args.format,
                &mut writer,
                observers,
                &|| interrupt.requested(),
            )?;
        } else {
            for (n, i) in args.shard.indices(count).enumerate() {
                if interrupt.requested() {
                    break;
                }
                let payment = generator.payment(i);
                truth.observe(&payment);
                summary.observe(&payment);
                writer.push(payment)?;
                progress.tick(n as u64 + 1);
            }
        }
        progress.done();
    }
    let written = writer.finish()?;
    drop(out);
    summary.write(&mut std::io::stderr().lock())?;
    if let Some(path) = &args.truth {
        let mut file = BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        truth.write_jsonl(&mut file)?;
        file.flush()?;
        eprintln!(
            "wrote {} scenarios to {}",
            truth.scenarios().len(),
            path.display()
        );
    }
    let what = if lifecycle { "records" } else { "payments" };
    if let Some(path) = &args.out {
        let skipped = if written.skipped > 0 {
            format!(
                " ({} of other rails skipped: the format carries only its own)",
                written.skipped
            )
        } else {
            String::new()
        };
        match written.messages {
            Some((count, messages)) => eprintln!(
                "wrote {count} {messages} for {} payments to {}{skipped}",
                written.written,
                path.display()
            ),
            None => eprintln!(
                "wrote {} {what} to {}{skipped}",
                written.written,
                path.display()
            ),
        }
    }
    if interrupt.requested() {
        return Err(Interrupted::leaving(format!(
            "the output holds the first {} {what}, each whole",
            written.written
        ))
        .into());
    }
    Ok(())
}

/// Progress on stderr for long runs into a file: a line that updates in place on a
/// terminal, a line every few seconds otherwise.
struct Progress {
    total: Option<u64>,
    enabled: bool,
    terminal: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(total: Option<u64>, enabled: bool) -> Self {
        let now = Instant::now();
        Self {
            total,
            enabled,
            terminal: std::io::stderr().is_terminal(),
            started: now,
            last: now,
        }
    }

    fn tick(&mut self, done: u64) {
        let every = if self.terminal {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if !self.enabled || !done.is_multiple_of(4096) || self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let line = match self.total {
            Some(total) => format!(
                "generated {done}/{total} ({:.0}%) at {rate:.0} records/s",
                done as f64 * 100.0 / total as f64
            ),
            None => format!("generated {done} records at {rate:.0} records/s"),
        };
        if self.terminal {
            eprint!("\r{line}")
        } else {
            eprintln!("{line}")
        }
    }

    fn done(&self) {
        if self.enabled && self.terminal {
            eprintln!();
        }
    }
}
