//! Two answer sources at once: the first answer wins and the other is
//! dropped (its prompt withdrawn). A source that cannot answer at all
//! (no terminal) leaves the other to answer alone.

use super::{OperatorError, Reply};
use std::future::Future;

/// The first answer of `turn` (the terminal, commands, oracle) and `desk`.
/// Fails only when both have failed, with the error that says more.
pub(super) async fn first_answer(
    turn: impl Future<Output = Result<Reply, OperatorError>>,
    desk: impl Future<Output = Result<Reply, OperatorError>>,
) -> Result<Reply, OperatorError> {
    tokio::pin!(turn, desk);
    let mut turn_err: Option<OperatorError> = None;
    let mut desk_err: Option<OperatorError> = None;
    loop {
        tokio::select! {
            r = &mut turn, if turn_err.is_none() => match r {
                Ok(reply) => return Ok(reply),
                Err(e) => {
                    if !matches!(e, OperatorError::NoHuman(_)) {
                        tracing::warn!("{e}; the answer desk still has the prompt");
                    }
                    turn_err = Some(e);
                }
            },
            r = &mut desk, if desk_err.is_none() => match r {
                Ok(reply) => return Ok(reply),
                Err(e) => desk_err = Some(e),
            },
        }
        if let (Some(t), Some(d)) = (&turn_err, &desk_err) {
            return Err(match t {
                OperatorError::NoHuman(_) => d.clone(),
                _ => t.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::By;
    use crate::redact::Secret;
    use std::time::Duration;

    fn answer(by: By) -> Result<Reply, OperatorError> {
        Ok(Reply::Answer(Secret::new("ABC123"), by))
    }

    async fn after(ms: u64, r: Result<Reply, OperatorError>) -> Result<Reply, OperatorError> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        r
    }

    fn by(r: Result<Reply, OperatorError>) -> By {
        match r {
            Ok(Reply::Answer(_, by)) => by,
            other => panic!("an answer expected, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_answer_wins_and_the_other_is_dropped() {
        let slow_terminal = after(500, answer(By::Terminal));
        let desk = after(10, answer(By::DeskOperator));
        assert_eq!(
            by(first_answer(slow_terminal, desk).await),
            By::DeskOperator
        );
        let terminal = after(10, answer(By::Terminal));
        let slow_desk = after(500, answer(By::DeskOperator));
        assert_eq!(by(first_answer(terminal, slow_desk).await), By::Terminal);
    }

    #[tokio::test(start_paused = true)]
    async fn no_terminal_leaves_the_desk_to_answer() {
        let nobody = async { Err(OperatorError::NoHuman("no terminal".into())) };
        let desk = after(300, answer(By::TaxpayerLink));
        assert_eq!(by(first_answer(nobody, desk).await), By::TaxpayerLink);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_command_does_not_stop_the_desk_and_both_failing_says_why() {
        let failed = async {
            Err(OperatorError::Failed(
                "the OTP command exited with 1".into(),
            ))
        };
        let desk = after(300, answer(By::DeskOperator));
        assert_eq!(by(first_answer(failed, desk).await), By::DeskOperator);
        let nobody = async { Err(OperatorError::NoHuman("no terminal".into())) };
        let timeout = after(
            300,
            Err(OperatorError::Timeout {
                what: "OTP",
                secs: 300,
            }),
        );
        let e = first_answer(nobody, timeout).await.unwrap_err();
        assert!(matches!(e, OperatorError::Timeout { .. }), "{e}");
    }
}
