//! [`Method`]: a coder chosen at run time.

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::encoder::{Encoder, Valid};
use crate::error::Result;
use crate::lasso::{Fista, Lars};
use crate::matryoshka::Matryoshka;
use crate::mp::MatchingPursuit;
use crate::omp::Omp;
use crate::threshold::Threshold;

/// Any coder of this crate, chosen at run time (a command line, a Python keyword); checked
/// once by [`check`](Self::check) like each coder on its own.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Method {
    /// Matching Pursuit.
    Mp(MatchingPursuit),
    /// OMP in any of its variants (Batch, reference, non-negative).
    Omp(Omp),
    /// LARS-LASSO / elastic net.
    Lars(Lars),
    /// FISTA or ISTA.
    Fista(Fista),
    /// A thresholding rule.
    Threshold(Threshold),
    /// Nested (Matryoshka) OMP.
    Matryoshka(Matryoshka),
}

impl Method {
    /// The coder's short name (`"batch-omp"`, `"lars"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Method::Mp(o) => o.name(),
            Method::Omp(o) => o.name(),
            Method::Lars(o) => o.name(),
            Method::Fista(o) => o.name(),
            Method::Threshold(o) => o.name(),
            Method::Matryoshka(o) => o.name(),
        }
    }

    /// Checks the chosen coder's parameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            Method::Mp(o) => o.validate(),
            Method::Omp(o) => o.validate(),
            Method::Lars(o) => o.validate(),
            Method::Fista(o) => o.validate(),
            Method::Threshold(o) => o.validate(),
            Method::Matryoshka(o) => o.validate(),
        }
    }

    /// Codes `signals` with the chosen coder, its parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        match self {
            Method::Mp(o) => o.run(dict, signals, exec),
            Method::Omp(o) => o.run(dict, signals, exec),
            Method::Lars(o) => o.run(dict, signals, exec),
            Method::Fista(o) => o.run(dict, signals, exec),
            Method::Threshold(o) => o.run(dict, signals, exec),
            Method::Matryoshka(o) => o.run(dict, signals, exec),
        }
    }
}

/// `Valid<P>` implements [`Encoder`] for every coder `P` of this crate: the coder's own
/// `run`, with nothing checked again.
macro_rules! valid_encoder {
    ($p:ty) => {
        impl<T: Real> Encoder<T> for Valid<$p> {
            fn name(&self) -> &'static str {
                <$p>::name(self)
            }

            fn encode_signals(
                &self,
                dict: &Dictionary<'_, T>,
                signals: Signals<'_, T>,
                exec: &Exec<'_>,
            ) -> Result<CscMatrix<T>> {
                self.params().run(dict, signals, exec)
            }
        }

        impl $p {
            /// Checks the parameters once, for any number of encodes.
            pub fn check(self) -> Result<Valid<Self>> {
                self.validate()?;
                Ok(Valid::checked(self))
            }
        }

        impl Valid<$p> {
            /// The coder's short name (the same for every element type).
            pub fn name(&self) -> &'static str {
                self.params().name()
            }
        }
    };
}

valid_encoder!(Method);
valid_encoder!(MatchingPursuit);
valid_encoder!(Omp);
valid_encoder!(Lars);
valid_encoder!(Threshold);
valid_encoder!(Fista);
valid_encoder!(Matryoshka);
