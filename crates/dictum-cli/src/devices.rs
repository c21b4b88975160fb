//! `dictum devices`: the GPU adapters this machine offers, as `--device gpu:N` numbers them.

use crate::error::Result;

/// Prints every adapter with what matters for dictum, or why there is none (not an error:
/// the CPU runs everything).
pub(crate) fn run() -> Result<()> {
    match dictum::gpu::adapters() {
        Ok(found) => {
            for a in &found {
                println!("{a}");
            }
            if found.iter().all(|a| a.software) {
                println!(
                    "only software adapters: --device auto stays on the CPU; --device gpu uses them"
                );
            }
        }
        Err(e) => println!("cpu only: {e}"),
    }
    Ok(())
}
