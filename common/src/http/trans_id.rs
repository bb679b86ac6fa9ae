//! Transaction ids (`X-Trans-Id`) that tie one client request's logs together across servers.

use rand::Rng;

pub const TRANS_ID_HEADER: &str = "x-trans-id";

/// `tx<21 hex random>-<10 hex unix seconds>`, the shape Swift uses.
pub fn new_trans_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let r: u128 = rand::thread_rng().gen();
    format!("tx{:021x}-{:010x}", r & ((1u128 << 84) - 1), secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shape() {
        let t = super::new_trans_id();
        assert!(t.starts_with("tx") && t.len() == 34, "{t}");
        assert_ne!(t, super::new_trans_id());
    }
}
