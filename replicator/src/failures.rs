//! What went wrong in a daemon's pass: how often, and the first few messages, for the log
//! and the recon file.

use serde::Serialize;

/// Messages kept per pass: enough to see the pattern, bounded however bad the pass.
const MAX_ERRORS: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Failures {
    pub failures: usize,
    pub errors: Vec<String>,
}

impl Failures {
    pub(crate) fn add(&mut self, what: String) {
        self.failures += 1;
        self.note(what);
    }

    /// Keeps a message without counting a failure (work deferred, not failed).
    pub(crate) fn note(&mut self, what: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(what);
        }
    }

    pub(crate) fn merge(&mut self, other: Failures) {
        self.failures += other.failures;
        let room = MAX_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_failure_and_keeps_the_first_messages() {
        let mut total = Failures::default();
        for i in 0..3 {
            let mut pass = Failures::default();
            for j in 0..10 {
                pass.add(format!("e{}", i * 10 + j));
            }
            total.merge(pass);
        }
        assert_eq!(total.failures, 30);
        assert_eq!(total.errors.len(), MAX_ERRORS);
        assert_eq!(total.errors[0], "e0");
    }
}
