//! How a command runs its computation: a thread pool of `--threads` threads, the execution
//! context that bounds the library to it, seeds it, shows its progress and stops it on
//! Ctrl-C (or SIGTERM), and notes once per operation where the backend fell back to the CPU.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use dictum::gpu::DeviceRequest;
use dictum::linalg::exec::{Event, Exec, with_threads};

use crate::error::{CliError, Result};

/// Set by the signal handler; every context's observer turns it into a cancellation.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C (and SIGTERM) stop the running computation at its next checkpoint; a second
/// one ends the process at once.
pub(crate) fn install_interrupt() {
    // Without a handler the default applies (the process ends), which is what a second
    // signal does anyway: a failure to install is not worth refusing to run.
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// The flags every computing command shares: how many threads, which device.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RunArgs {
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Where the products run: cpu, gpu, gpu:N (`dictum devices` lists N) or auto (a
    /// hardware GPU for the large products, if there is one). f64 needs an adapter with f64
    /// shaders (`dictum devices`).
    #[arg(long, default_value = "cpu")]
    device: DeviceRequest,
}

impl RunArgs {
    /// `threads` threads (default: all cores) on the CPU, for work the GPU has no part in.
    pub(crate) fn cpu(threads: Option<usize>) -> Self {
        Self {
            threads,
            device: DeviceRequest::Cpu,
        }
    }
}

/// Runs `f` with a context of `threads` threads (default: all cores) and `seed`, whose
/// observer passes every event to `show` (a progress bar), cancels on interruption and
/// reports each backend fallback once on stderr. `device` picks the backend (a GPU is
/// opened here and its choice reported on stderr). `f` gets the thread count too.
pub(crate) fn run<R: Send>(
    how: &RunArgs,
    seed: u64,
    show: &(dyn Fn(&Event<'_>) + Sync),
    f: impl FnOnce(&Exec<'_>, usize) -> Result<R> + Send,
) -> Result<R> {
    let (threads, device) = (how.threads, how.device);
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    if threads == 0 {
        return Err(CliError::usage("threads", 0, "at least 1"));
    }
    let selection = dictum::gpu::select(device).map_err(dictum::Error::from)?;
    if device != DeviceRequest::Cpu {
        eprintln!("{}", selection.reason);
    }
    let noted = Mutex::new(HashSet::new());
    let observer = |e: &Event<'_>| {
        if let Event::Fallback {
            op,
            precision,
            backend,
            reason,
        } = e
            && noted
                .lock()
                .map(|mut n| n.insert((*op, *precision)))
                .unwrap_or(false)
        {
            eprintln!("note: {backend} does not run {op} in {precision} ({reason}); the CPU does");
        }
        show(e);
        if INTERRUPTED.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    with_threads(threads, |par| {
        let exec = Exec::new(par).with_observer(&observer).with_seed(seed);
        match &selection.gpu {
            Some(gpu) => f(&exec.with_backend(gpu), threads),
            None => f(&exec, threads),
        }
    })?
}

/// An observer that shows nothing.
pub(crate) fn quiet(_: &Event<'_>) {}
