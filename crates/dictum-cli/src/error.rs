//! The command line's own error type: what a library call returned, or a problem with the
//! command line itself (named by its flag), or an interruption.

use std::path::PathBuf;

/// Everything a `dictum` command can fail with. Library errors keep their messages; the
/// command line's own say which flag to change.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A library call failed.
    #[error(transparent)]
    Dictum(#[from] dictum::Error),
    /// A flag's value (or a missing flag) the command cannot work with.
    #[error("--{flag} {value}: {hint}")]
    Usage {
        /// The flag, without dashes.
        flag: &'static str,
        /// What was given (or "unset").
        value: String,
        /// What to pass instead.
        hint: &'static str,
    },
    /// A file or folder could not be made.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl CliError {
    /// A usage error for `--flag value`.
    pub(crate) fn usage(flag: &'static str, value: impl ToString, hint: &'static str) -> Self {
        Self::Usage {
            flag,
            value: value.to_string(),
            hint,
        }
    }

    /// Whether the command stopped because it was interrupted (Ctrl-C, SIGTERM).
    pub(crate) fn is_interrupted(&self) -> bool {
        matches!(self, Self::Dictum(e) if e.is_cancelled())
    }
}

/// The errors of every layer, through the facade's.
macro_rules! via_facade {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                Self::Dictum(e.into())
            }
        }
    )*};
}

via_facade!(
    dictum::io::IoError,
    dictum::coding::CodingError,
    dictum::learn::LearnError,
    dictum::smt::SmtError,
    dictum::linalg::LinalgError
);

/// `Result` with [`CliError`].
pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;

/// Creates the folder `path` and its parents.
pub(crate) fn create_dir(path: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|source| CliError::Create {
        path: path.to_path_buf(),
        source,
    })
}
