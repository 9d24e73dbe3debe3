//! Listening sockets that keep a burst of connection attempts: a webhook storm after an outage,
//! a fleet's first syncs against one emulator.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The accept queue asked for. The kernel caps it at `net.core.somaxconn` (4096 on current Linux).
/// std's listener asks for 128 and tokio's for 1024; an attempt beyond the queue is dropped, and
/// the sender's kernel tries again only after a second (then two, then four), so a burst of a few
/// thousand connections stalled for seconds with the cores idle.
pub const BACKLOG: u32 = 4096;

/// Binds `addr` and listens with a [`BACKLOG`]-deep accept queue (address reuse on, as std and
/// tokio set it). Call it inside a tokio runtime; `into_std` gives a std listener.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The kernel's count of connection attempts dropped by a full accept queue (system-wide).
    fn listen_overflows() -> u64 {
        let text = std::fs::read_to_string("/proc/net/netstat").unwrap();
        let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
        let (names, values) = (lines.next().unwrap(), lines.next().unwrap());
        let at = names.split_whitespace().position(|n| n == "ListenOverflows").unwrap();
        values.split_whitespace().nth(at).unwrap().parse().unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_burst_beyond_the_default_queues_waits_in_the_queue_and_none_is_dropped() {
        let cap: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap().trim().parse().unwrap();
        if cap < 1500 {
            eprintln!("skipped: net.core.somaxconn is {cap}, below the 1,500 attempts this test queues");
            return;
        }
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = listener.local_addr().unwrap();
        let before = listen_overflows();
        // 1,500 attempts before a single accept: tokio's own queue (1024) would drop about 500.
        let pending: Vec<_> = (0..1500).map(|_| tokio::spawn(tokio::net::TcpStream::connect(addr))).collect();
        // Every spawned attempt sends its SYN before this task runs again.
        tokio::task::yield_now().await;
        let accepting = tokio::spawn(async move {
            for _ in 0..1500 {
                listener.accept().await.unwrap();
            }
        });
        for p in pending {
            p.await.unwrap().unwrap();
        }
        accepting.await.unwrap();
        assert_eq!(listen_overflows() - before, 0, "attempts were dropped by a full accept queue");
    }
}
