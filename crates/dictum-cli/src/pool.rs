//! `--threads`: a rayon pool of the requested size and the matching `Par`.

use dictum::Par;

/// Runs `f` on a pool of `threads` threads (default: all cores), passing the `Par` that tells
/// dictum's kernels to use them.
pub(crate) fn with_threads<R>(
    command: &'static str,
    threads: Option<usize>,
    f: impl FnOnce(Par, usize) -> dictum::Result<R> + Send,
) -> dictum::Result<R>
where
    R: Send,
{
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|_| dictum::coding::CodingError::InvalidParameter {
            method: command,
            name: "threads",
            value: threads.to_string(),
            hint: "could not start a thread pool of that size; try fewer threads",
        })?;
    let par = if threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    pool.install(|| f(par, threads))
}
