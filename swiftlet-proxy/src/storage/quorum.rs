//! Settling the replies of a fan-out write into one status, as Swift's `best_response`:
//! a class (2xx, 3xx, 4xx) wins when a quorum of replicas answered with it; otherwise 503.

use http::StatusCode;

/// A majority of `n` replicas.
pub(crate) fn quorum_size(n: usize) -> usize {
    n / 2 + 1
}

/// The status for the client given each replica's status (`None` for no answer).
pub(crate) fn best_status(statuses: &[Option<StatusCode>], replicas: usize) -> StatusCode {
    let quorum = quorum_size(replicas);
    for class in [200u16, 300, 400] {
        let in_class: Vec<StatusCode> =
            statuses.iter().flatten().copied().filter(|s| (class..class + 100).contains(&s.as_u16())).collect();
        if in_class.len() >= quorum {
            // The most common status of the class, ties to the lowest code.
            let mut best = in_class[0];
            let mut best_count = 0;
            for s in &in_class {
                let c = in_class.iter().filter(|x| *x == s).count();
                if c > best_count || (c == best_count && s.as_u16() < best.as_u16()) {
                    best = *s;
                    best_count = c;
                }
            }
            return best;
        }
    }
    StatusCode::SERVICE_UNAVAILABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: StatusCode = StatusCode::CREATED;
    const NF: StatusCode = StatusCode::NOT_FOUND;
    const E: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;

    #[test]
    fn majority_rules() {
        assert_eq!(quorum_size(3), 2);
        assert_eq!(quorum_size(4), 3);
        assert_eq!(quorum_size(1), 1);
        assert_eq!(best_status(&[Some(C), Some(C), None], 3), C);
        assert_eq!(best_status(&[Some(C), None, None], 3), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(best_status(&[Some(C), Some(E), Some(E)], 3), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(best_status(&[Some(NF), Some(NF), Some(C)], 3), NF);
        assert_eq!(
            best_status(&[Some(StatusCode::CONFLICT), Some(NF), Some(StatusCode::CONFLICT)], 3),
            StatusCode::CONFLICT
        );
    }
}
