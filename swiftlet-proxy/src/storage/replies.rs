//! Waiting for the object servers' answers to a streamed upload, once the whole body is
//! sent: each within `node_timeout`, and once a quorum agreed, the rest only for
//! `post_quorum_timeout` (Swift's), so one hung node never holds the client's answer.

use super::quorum::best_status;
use super::write::Reply;
use futures::StreamExt;
use http::StatusCode;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long to wait for the replies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    pub node_timeout: Duration,
    pub post_quorum_timeout: Duration,
}

/// Each slot's reply (`None` for no answer in time); `waiting` holds the slot index and
/// the task that reads its answer. Tasks still running when the wait ends are aborted.
pub(crate) async fn collect(
    n: usize,
    waiting: Vec<(usize, JoinHandle<Option<Reply>>)>,
    patience: Patience,
) -> Vec<Option<Reply>> {
    let mut replies: Vec<Option<Reply>> = vec![None; n];
    let aborts: Vec<_> = waiting.iter().map(|(_, h)| h.abort_handle()).collect();
    let mut pending: futures::stream::FuturesUnordered<_> = waiting
        .into_iter()
        .map(|(i, h)| async move { (i, tokio::time::timeout(patience.node_timeout, h).await) })
        .collect();
    let mut quorum_at: Option<tokio::time::Instant> = None;
    loop {
        let next = match quorum_at {
            None => pending.next().await,
            Some(at) => match tokio::time::timeout_at(at, pending.next()).await {
                Ok(next) => next,
                Err(_) => {
                    tracing::warn!(
                        waiting = pending.len(),
                        "object servers not answering after quorum; not waited for"
                    );
                    break;
                }
            },
        };
        let Some((i, answer)) = next else { break };
        match answer {
            Ok(Ok(reply)) => replies[i] = reply,
            Ok(Err(_)) => {}
            Err(_) => tracing::warn!(slot = i, "object server did not answer the upload within node_timeout"),
        }
        if quorum_at.is_none() && has_quorum(&replies, n) {
            quorum_at = Some(tokio::time::Instant::now() + patience.post_quorum_timeout);
        }
    }
    for a in aborts {
        a.abort();
    }
    replies
}

/// Whether a quorum of the replies agree on a class of status (the client's answer is known).
fn has_quorum(replies: &[Option<Reply>], n: usize) -> bool {
    let statuses: Vec<Option<StatusCode>> = replies.iter().map(|r| r.as_ref().map(|r| r.status)).collect();
    best_status(&statuses, n) != StatusCode::SERVICE_UNAVAILABLE
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn answers_after(delay: Duration, status: StatusCode) -> JoinHandle<Option<Reply>> {
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            Some(Reply { status, headers: HeaderMap::new() })
        })
    }

    #[tokio::test]
    async fn a_hung_node_is_waited_for_only_post_quorum_timeout() {
        let patience =
            Patience { node_timeout: Duration::from_secs(30), post_quorum_timeout: Duration::from_millis(200) };
        let fast = Duration::from_millis(10);
        let waiting = vec![
            (0, answers_after(fast, StatusCode::CREATED)),
            (1, answers_after(Duration::from_secs(3600), StatusCode::CREATED)),
            (2, answers_after(fast, StatusCode::CREATED)),
        ];
        let started = std::time::Instant::now();
        let replies = collect(3, waiting, patience).await;
        println!("answered after {:?} with one node hung", started.elapsed());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(replies.iter().flatten().count(), 2);
        assert!(replies[1].is_none());
    }

    #[tokio::test]
    async fn without_quorum_each_node_gets_node_timeout() {
        let patience =
            Patience { node_timeout: Duration::from_millis(300), post_quorum_timeout: Duration::from_millis(50) };
        let waiting = vec![
            (0, answers_after(Duration::from_millis(10), StatusCode::CREATED)),
            (1, answers_after(Duration::from_millis(150), StatusCode::CREATED)),
            (2, answers_after(Duration::from_secs(3600), StatusCode::CREATED)),
        ];
        let replies = collect(3, waiting, patience).await;
        assert_eq!(replies.iter().flatten().count(), 2, "the slower second reply is still in time");
        let waiting = vec![(0, answers_after(Duration::from_secs(3600), StatusCode::CREATED))];
        let started = std::time::Instant::now();
        assert!(collect(1, waiting, patience).await[0].is_none());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
