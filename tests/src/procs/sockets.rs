//! The kernel's view of TCP connections (`/proc/net/tcp`): which of a server's connections are
//! still open, seen from the server's side, whatever its own counters say.

/// `/proc/net/tcp`'s code for an established connection.
const ESTABLISHED: &str = "01";

/// How many connections on local port `server` to any of the local `peers` ports are still
/// established on the server's side (IPv4 loopback, where every test process listens).
pub fn established(server: u16, peers: &[u16]) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter_map(parse_row)
        .filter(|row| {
            row.local == server && peers.contains(&row.remote) && row.state == ESTABLISHED
        })
        .count()
}

struct Row<'a> {
    local: u16,
    remote: u16,
    state: &'a str,
}

/// `sl local_address rem_address st …`, addresses as `0100007F:1F90` (hex, port after the colon).
fn parse_row(line: &str) -> Option<Row<'_>> {
    let mut fields = line.split_whitespace().skip(1);
    let local = port_of(fields.next()?)?;
    let remote = port_of(fields.next()?)?;
    let state = fields.next()?;
    Some(Row {
        local,
        remote,
        state,
    })
}

fn port_of(address: &str) -> Option<u16> {
    let (_, port) = address.split_once(':')?;
    u16::from_str_radix(port, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_row_gives_its_ports_and_state() {
        let row = parse_row(
            "   3: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000 0 1 1",
        )
        .expect("a row");
        assert_eq!((row.local, row.remote, row.state), (8080, 50000, "01"));
        assert!(parse_row("  sl  local_address rem_address").is_none());
    }

    #[test]
    fn an_open_connection_is_counted_until_the_server_closes_it() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("addr").port();
        let client = TcpStream::connect(("127.0.0.1", server)).expect("connect");
        let peer = client.local_addr().expect("addr").port();
        let (accepted, _) = listener.accept().expect("accept");
        assert_eq!(established(server, &[peer]), 1);
        assert_eq!(established(server, &[peer.wrapping_add(1)]), 0);
        drop(accepted);
        assert_eq!(
            established(server, &[peer]),
            0,
            "closed on the server's side"
        );
    }
}
