//! The accept loop of the loopback servers tests talk to (SMTP, HTTP): one thread accepting on
//! a free 127.0.0.1 port, one thread per connection.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// Listens on a free loopback port and runs `session` for every connection, with `shared`;
/// returns the port. The threads end with the test process.
#[expect(clippy::panic, reason = "test support")]
pub(crate) fn serve<S: Send + Sync + 'static>(
    what: &str,
    shared: Arc<S>,
    session: fn(TcpStream, &S) -> std::io::Result<()>,
) -> u16 {
    let listener =
        TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind the {what}: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let _ = session(stream, &shared);
            });
        }
    });
    port
}
