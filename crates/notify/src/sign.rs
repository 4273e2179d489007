//! Signatures computed at send time, never stored (design §4.2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of the concatenated `parts` under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length (long ones are hashed first), so `new_from_slice` cannot fail
    // for it; the `else` only keeps this function total.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// DingTalk 加签: `base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" + secret))`, before
/// URL encoding. `timestamp_ms` is Unix time in milliseconds and must be within an hour of
/// DingTalk's clock, which is why every attempt signs again.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    STANDARD.encode(hmac_sha256(secret.as_bytes(), &[message.as_bytes()]))
}

/// The generic webhook's `X-Bihuan-Signature`: `sha256=` + hex `HMAC-SHA256(secret, timestamp +
/// "." + body)`, where `timestamp` is the `X-Bihuan-Timestamp` header (Unix seconds).
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let prefix = format!("{timestamp}.");
    let mac = hmac_sha256(secret.as_bytes(), &[prefix.as_bytes(), body.as_bytes()]);
    format!("sha256={}", hex::encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn hmac_matches_the_rfc_vector() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn webhook_signature_covers_timestamp_and_body() {
        let a = webhook_signature("k", 1_621_200_000, "{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, webhook_signature("k", 1_621_200_001, "{}"));
        assert_ne!(a, webhook_signature("k", 1_621_200_000, "{ }"));
        assert_ne!(a, webhook_signature("l", 1_621_200_000, "{}"));
        let by_hand = hmac_sha256(b"k", &[b"1621200000.{}"]);
        assert_eq!(a, format!("sha256={}", hex::encode(by_hand)));
    }

    #[test]
    fn dingtalk_sign_is_base64_of_the_mac() {
        let sign = dingtalk_sign("SEC123", 1_621_200_000_000);
        let raw = STANDARD.decode(&sign).unwrap();
        assert_eq!(raw, hmac_sha256(b"SEC123", &[b"1621200000000\nSEC123"]));
    }
}
