//! A plain HTTP/1.1 client for the origin's own tests (every byte visible), and the set-ups
//! the live tests share.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::{Addressing, LiveConfig, LiveOrigin, SEC, unix_now};

/// A second, as the instants are computed in.
pub const S: i128 = SEC as i128;

/// A whole second, `secs` seconds before now.
pub fn whole_seconds_ago(secs: i128) -> i128 {
    (unix_now() / S - secs) * S
}

/// A response.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// One HTTP/1.1 request on a fresh connection (the origin always sends Content-Length).
pub fn request(
    origin: &LiveOrigin,
    method: &str,
    path: &str,
    extra: &str,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(origin.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let path = path.trim_start_matches('/');
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n{extra}\r\n",
        origin.addr
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[end..].to_vec(),
    })
}

pub fn get(origin: &LiveOrigin, path: &str) -> Reply {
    request(origin, "GET", path, "").unwrap()
}

/// An origin in `mode` whose AST was `age` seconds ago, with a buffer of `tsbd` seconds.
pub fn origin_with_buffer(mode: Addressing, age: i128, tsbd: u64) -> (LiveOrigin, i128) {
    let ast = whole_seconds_ago(age);
    let mut config = LiveConfig::new(mode, ast);
    config.tsbd = tsbd * SEC;
    (LiveOrigin::start(config), ast)
}

/// Every addressing mode.
pub const MODES: [Addressing; 5] = [
    Addressing::Number,
    Addressing::TimelineTime,
    Addressing::TimelineNumber,
    Addressing::TimelineOpen,
    Addressing::List,
];
