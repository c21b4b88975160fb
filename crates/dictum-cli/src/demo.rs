//! `dictum demo`: the README's first command. Denoises the bundled noisy photograph with a
//! dictionary learned by K-SVD on its own patches (Elad & Aharon 2006) and prints the PSNR
//! before and after.

use std::path::PathBuf;
use std::time::Instant;

use dictum::Mat;
use dictum::datasets::load_image;
use dictum::learn::denoise::{PatchDenoiser, psnr};
use dictum::linalg::exec::Event;

use crate::encode::human;
use crate::error::Result;
use crate::render;

/// What `dictum demo` was asked to do.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Output folder for the pictures and the dictionary.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// K-SVD iterations.
    #[arg(long, default_value_t = 15)]
    iters: usize,
    /// Threads and device.
    #[command(flatten)]
    run: crate::exec::RunArgs,
}

/// The noise the bundled noisy image was made with: σ = 20/255 on pixels in [0, 1].
const SIGMA: f64 = 20.0 / 255.0;

pub(crate) fn run(args: &DemoArgs) -> Result<()> {
    let clean = load_image("flower-small")?;
    let noisy = load_image("flower-small-noisy20")?;
    let (h, w) = (noisy.height, noisy.width);
    std::fs::create_dir_all(&args.out).map_err(|e| dictum::io::IoError::Io {
        path: args.out.clone(),
        source: e,
    })?;
    println!(
        "dictum demo: denoise the bundled photograph (flower, {w}x{h} grayscale, Gaussian noise σ = 20/255)"
    );
    println!(
        "  K-SVD on its own 8x8 patches: 256 atoms, error-constrained Batch-OMP (Elad & Aharon 2006)"
    );
    let denoiser = PatchDenoiser::new()
        .max_iter(args.iters)
        // The paper's λ = 30/σ for pixels in 0..255.
        .noisy_weight(30.0 / (SIGMA * 255.0));
    let bar = crate::report::progress_bar(
        args.iters as u64,
        "  {spinner} K-SVD [{bar:30}] iter {pos}/{len} {msg}",
    );
    let show = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            bar.set_position(s.iter as u64);
            bar.set_message(format!(
                "error {:.4}, nnz/patch {:.2}",
                s.rel_error, s.mean_nnz
            ));
        }
    };
    let start = Instant::now();
    let result = crate::exec::run(&args.run, 0, &show, |exec, threads| {
        Ok((denoiser.denoise(&noisy.pixels, h, w, SIGMA, exec)?, threads))
    });
    bar.finish_and_clear();
    let (den, threads) = result?;
    let elapsed = start.elapsed();
    let before = psnr(&clean.pixels, &noisy.pixels, 1.0);
    let after = psnr(&clean.pixels, &den.image, 1.0);
    println!(
        "  PSNR  noisy {before:.2} dB  ->  denoised {after:.2} dB  (+{:.2} dB)",
        after - before
    );
    println!(
        "  {} K-SVD iterations, {:.2} atoms per patch, {} on {threads} threads",
        den.history.len(),
        den.mean_nnz,
        human(elapsed)
    );
    let strip = render::side_by_side(&[&noisy.pixels, &den.image, &clean.pixels], w, h, 2);
    dictum::io::png::write_rgb(&args.out.join("denoise.png"), &strip)?;
    dictum::io::png::write_rgb(
        &args.out.join("atoms.png"),
        &render::atom_grid(den.dictionary.as_ref(), 8, 4),
    )?;
    dictum::io::npy::write_matrix(
        args.out.join("D.npy"),
        den.dictionary.as_ref(),
        dictum::io::npy::MatrixLayout::SamplesAsRows,
    )?;
    crate::learn::write_history(&args.out.join("history.csv"), &den.history)?;
    let img = Mat::<f32>::from_fn(w, h, |c, r| den.image[r * w + c]);
    dictum::io::npy::write_matrix(
        args.out.join("denoised.npy"),
        img.as_ref(),
        dictum::io::npy::MatrixLayout::SamplesAsRows,
    )?;
    println!(
        "  wrote {}/denoise.png (noisy | denoised | clean), atoms.png, D.npy, denoised.npy, history.csv",
        args.out.display()
    );
    Ok(())
}
