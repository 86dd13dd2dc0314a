//! What to do with the answer to a GET of a resource: a pure function of the status, the
//! `Content-Range`/`Content-Length` headers and the resume offset, table-tested below. The
//! attempt that sent the request only carries out the decision.

use std::time::Duration;

use reqwest::StatusCode;

use super::http::{Failure, parse_content_range, status_text};

/// The parts of a response the decision depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Response<'a> {
    /// The status.
    pub status: StatusCode,
    /// The raw `Content-Range` header, if any.
    pub content_range: Option<&'a str>,
    /// `Content-Length`, if any.
    pub content_length: Option<u64>,
    /// `Retry-After`, already parsed and capped, if any.
    pub retry_after: Option<Duration>,
}

/// The request the response answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request {
    /// `Some(n)` when it asked for bytes from `n` on (resuming a part file of `n` bytes).
    pub resume_from: Option<u64>,
    /// The smallest size the manifest allows (one past the last addressed byte).
    pub min_size: u64,
}

/// The decision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Write the body into the part file from `offset` on (the part is emptied first when
    /// `offset` is 0); the body ends at `end` (exclusive, when known); the resource is `total`
    /// bytes (when known).
    Body {
        offset: u64,
        end: Option<u64>,
        total: Option<u64>,
    },
    /// The part file already holds the whole resource (`416` naming exactly its size).
    PartComplete { size: u64 },
    /// The part file cannot be continued: remove it, forget its validators, try again (why).
    StartOver(String),
    /// The attempt failed (retryable or not).
    Fail(Failure),
}

/// Decides what a response means for the part file.
pub(crate) fn decide(response: Response<'_>, request: Request) -> Action {
    let status = response.status;
    let content_range = response
        .content_range
        .map(|text| (text, parse_content_range(text)));
    let action = match status {
        StatusCode::PARTIAL_CONTENT => {
            let Some((text, parsed)) = content_range else {
                return Action::StartOver("206 answer without a Content-Range".into());
            };
            let Some((first, last, total)) =
                parsed.and_then(|c| Some((c.range?.0, c.range?.1, c.total)))
            else {
                return Action::StartOver(format!(
                    "206 answer with an invalid Content-Range {text:?}"
                ));
            };
            let expected = request.resume_from.unwrap_or(0);
            if first != expected {
                return Action::StartOver(format!(
                    "asked for bytes from {expected}, the server sent {first}-{last}: starting over"
                ));
            }
            // `bytes 0-18446744073709551615/*` names one byte more than a u64 can count.
            let Some(end) = last.checked_add(1) else {
                return Action::Fail(Failure::fatal(format!(
                    "the server's Content-Range {text:?} is beyond any file size"
                )));
            };
            Action::Body {
                offset: first,
                end: Some(end),
                total,
            }
        }
        StatusCode::OK => Action::Body {
            offset: 0,
            end: response.content_length,
            total: response.content_length,
        },
        StatusCode::RANGE_NOT_SATISFIABLE if request.resume_from.is_some() => {
            let total = content_range.and_then(|(_, c)| c?.total);
            return match (request.resume_from, total) {
                // The server evaluated the range, so If-Range matched: the part is the current
                // version and already holds every byte (a run killed before the rename, or a
                // body cut just after its last byte).
                (Some(have), Some(total)) if have == total && total >= request.min_size => {
                    Action::PartComplete { size: have }
                }
                _ => Action::StartOver("range not satisfiable: starting over".into()),
            };
        }
        _ if status.is_success() || status.is_redirection() => {
            return Action::Fail(Failure::fatal(format!(
                "unexpected answer HTTP {}",
                status_text(status)
            )));
        }
        _ => return Action::Fail(Failure::of_status(status, response.retry_after)),
    };
    if let Action::Body {
        total: Some(total), ..
    } = action
        && total < request.min_size
    {
        return Action::Fail(Failure::fatal(format!(
            "the resource is {total} bytes but the manifest addresses bytes up to {}",
            request.min_size
        )));
    }
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Request = Request {
        resume_from: None,
        min_size: 0,
    };

    fn resume(from: u64) -> Request {
        Request {
            resume_from: Some(from),
            min_size: 0,
        }
    }

    fn answer(status: u16, range: Option<&str>, length: Option<u64>) -> Response<'_> {
        Response {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            content_range: range,
            content_length: length,
            retry_after: None,
        }
    }

    fn body(offset: u64, end: Option<u64>, total: Option<u64>) -> Action {
        Action::Body { offset, end, total }
    }

    fn start_over(action: &Action) -> bool {
        matches!(action, Action::StartOver(_))
    }

    fn fails(retryable: bool, text: &str) -> impl Fn(&Action) -> bool + '_ {
        move |action| matches!(action, Action::Fail(f) if f.retryable == retryable && f.reason.contains(text))
    }

    #[test]
    fn exact_decisions() {
        let cases: Vec<(Response<'_>, Request, Action)> = vec![
            (
                answer(200, None, Some(10)),
                FRESH,
                body(0, Some(10), Some(10)),
            ),
            (answer(200, None, None), FRESH, body(0, None, None)),
            // A server ignoring Range: the whole body again, from 0.
            (
                answer(200, None, Some(10)),
                resume(4),
                body(0, Some(10), Some(10)),
            ),
            (
                answer(206, Some("bytes 4-9/10"), Some(6)),
                resume(4),
                body(4, Some(10), Some(10)),
            ),
            (
                answer(206, Some("bytes 4-9/*"), None),
                resume(4),
                body(4, Some(10), None),
            ),
            (
                answer(206, Some("bytes 0-9/10"), None),
                FRESH,
                body(0, Some(10), Some(10)),
            ),
            (
                answer(416, Some("bytes */10"), None),
                resume(10),
                Action::PartComplete { size: 10 },
            ),
        ];
        for (response, request, expected) in cases {
            assert_eq!(
                decide(response, request),
                expected,
                "{response:?} {request:?}"
            );
        }
    }

    #[test]
    fn refusals_and_failures() {
        type Check<'a> = Box<dyn Fn(&Action) -> bool + 'a>;
        let cases: Vec<(Response<'_>, Request, Check<'_>)> = vec![
            (answer(206, None, Some(6)), resume(4), Box::new(start_over)),
            (
                answer(206, Some("bytes 9-4/10"), None),
                resume(4),
                Box::new(start_over),
            ),
            (
                answer(206, Some("bytes 0-9/10"), None),
                resume(4),
                Box::new(start_over),
            ),
            (
                answer(206, Some("bytes 5-9/10"), None),
                FRESH,
                Box::new(start_over),
            ),
            (
                answer(416, Some("bytes */12"), None),
                resume(10),
                Box::new(start_over),
            ),
            (answer(416, None, None), resume(10), Box::new(start_over)),
            // Absurd ranges: a clear error, never an overflow.
            (
                answer(206, Some("bytes 0-18446744073709551615/*"), None),
                FRESH,
                Box::new(fails(false, "beyond any file size")),
            ),
            (
                answer(206, Some("bytes 7-18446744073709551615/*"), None),
                resume(7),
                Box::new(fails(false, "beyond any file size")),
            ),
            (
                answer(206, Some("bytes 0-99999999999999999999/*"), None),
                FRESH,
                Box::new(start_over),
            ),
            (
                answer(416, None, None),
                FRESH,
                Box::new(fails(false, "HTTP 416")),
            ),
            (
                answer(404, None, None),
                FRESH,
                Box::new(fails(false, "HTTP 404 Not Found")),
            ),
            (
                answer(503, None, None),
                FRESH,
                Box::new(fails(true, "HTTP 503")),
            ),
            (
                answer(429, None, None),
                FRESH,
                Box::new(fails(true, "HTTP 429")),
            ),
            (
                answer(408, None, None),
                FRESH,
                Box::new(fails(true, "HTTP 408")),
            ),
            (
                answer(204, None, None),
                FRESH,
                Box::new(fails(false, "unexpected answer HTTP 204")),
            ),
            (
                answer(304, None, None),
                FRESH,
                Box::new(fails(false, "unexpected answer HTTP 304")),
            ),
            (
                answer(200, None, Some(10)),
                Request {
                    resume_from: None,
                    min_size: 11,
                },
                Box::new(fails(false, "manifest addresses bytes up to 11")),
            ),
        ];
        for (response, request, check) in cases {
            let action = decide(response, request);
            assert!(check(&action), "{response:?} {request:?}: {action:?}");
        }
    }

    #[test]
    fn retry_after_is_carried() {
        let mut response = answer(503, None, None);
        response.retry_after = Some(Duration::from_secs(2));
        match decide(response, FRESH) {
            Action::Fail(f) => assert_eq!(f.retry_after, Some(Duration::from_secs(2))),
            other => panic!("{other:?}"),
        }
    }
}
