//! `patron-sandbox`: reads request frames on stdin, answers on stdout, one at a time, until
//! stdin closes. Diagnostics go to stderr; stdout carries only frames.

use std::io::{self, BufReader, BufWriter};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;

use patron_sandbox::frame::{read_frame, write_frame, Frame, MAX_FRAME};
use patron_sandbox::rules::Limits;
use patron_sandbox::worker::{Worker, DEFAULT_CACHE_SIZE};

const USAGE: &str = "\
usage: patron-sandbox [options]
  --max-operations N       operations per evaluation (default 100000)
  --max-call-levels N      nested function calls (default 32)
  --max-expr-depth N       nested expressions (default 64; 32 inside functions)
  --max-string-size N      bytes in a string (default 65536)
  --max-array-size N       elements in an array (default 10000)
  --max-map-size N         properties in an object map (default 10000)
  --max-memory-mb N        address-space limit for this process (setrlimit RLIMIT_AS)
  --cache-size N           compiled rules kept (default 256)
Speaks length-prefixed JSON frames on stdin/stdout (see src/worker.rs).";

struct Args {
    limits: Limits,
    max_memory_mb: Option<u64>,
    cache_size: usize,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        limits: Limits::default(),
        max_memory_mb: None,
        cache_size: DEFAULT_CACHE_SIZE,
    };
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Err(USAGE.to_string());
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{name}: '{value}' is not a whole number\n{USAGE}"))?;
        let size = usize::try_from(number).map_err(|_| format!("{name}: too large"))?;
        let limits = &mut parsed.limits;
        match name.as_str() {
            "--max-operations" => limits.max_operations = number,
            "--max-call-levels" => limits.max_call_levels = size,
            "--max-expr-depth" => {
                limits.max_expr_depth = size;
                limits.max_function_expr_depth = size.div_ceil(2);
            }
            "--max-string-size" => limits.max_string_size = size,
            "--max-array-size" => limits.max_array_size = size,
            "--max-map-size" => limits.max_map_size = size,
            "--max-memory-mb" => parsed.max_memory_mb = Some(number),
            "--cache-size" => parsed.cache_size = size,
            _ => return Err(format!("unknown option {name}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

/// Caps this process's address space, so a script that allocates without bound makes the
/// process fail (and be replaced) instead of starving the machine.
#[allow(unsafe_code)]
fn limit_memory(megabytes: u64) -> io::Result<()> {
    let bytes = megabytes.saturating_mul(1024 * 1024) as libc::rlim_t;
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit reads the struct we pass and touches no memory of ours.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some(mb) = args.max_memory_mb {
        if let Err(e) = limit_memory(mb) {
            eprintln!("patron-sandbox: setrlimit(RLIMIT_AS, {mb} MiB) failed: {e}");
            return ExitCode::FAILURE;
        }
    }

    let mut worker = Worker::new(&args.limits, args.cache_size);
    let mut input = BufReader::new(io::stdin().lock());
    let mut output = BufWriter::new(io::stdout().lock());
    loop {
        let response = match read_frame(&mut input, MAX_FRAME) {
            Ok(Frame::Eof) => return ExitCode::SUCCESS,
            Ok(Frame::TooLarge(len)) => Worker::too_large(len),
            Ok(Frame::Data(frame)) => {
                match catch_unwind(AssertUnwindSafe(|| worker.handle(&frame))) {
                    Ok(response) => response,
                    Err(_) => {
                        // Rhai should never panic; if it does, answer and start afresh.
                        eprintln!("patron-sandbox: a request panicked; resetting the worker");
                        worker = Worker::new(&args.limits, args.cache_size);
                        br#"{"id":0,"ok":false,"error":{"kind":"runtime","message":"internal error in the sandbox"}}"#.to_vec()
                    }
                }
            }
            Err(e) => {
                eprintln!("patron-sandbox: reading a request failed: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = write_frame(&mut output, &response) {
            eprintln!("patron-sandbox: writing a response failed: {e}");
            return ExitCode::FAILURE;
        }
    }
}
