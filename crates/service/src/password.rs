//! Password hashing with Argon2id.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use bihuan_domain::{DomainError, FieldError};
use rand::Rng;

/// Argon2id with configurable cost. The defaults follow OWASP's minimum
/// (19 MiB, 2 passes); tests use a cheaper setting.
#[derive(Clone, Debug)]
pub struct Hasher {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher { memory_kib: 19 * 1024, iterations: 2 }
    }
}

impl Hasher {
    /// The cheapest setting Argon2 accepts: for tests only.
    pub fn for_tests() -> Self {
        Hasher { memory_kib: 64, iterations: 1 }
    }

    fn argon(&self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None).unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    pub fn hash(&self, password: &str) -> Result<String, DomainError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(crate::internal)
    }

    /// Verifies against a stored PHC string (its own parameters apply).
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
            Err(_) => false,
        }
    }
}

/// The password rule: at least 8 characters, not all digits, not the username.
pub fn check_policy(password: &str, username: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    let problem = if n < 8 {
        Some(("密码至少需要8个字符", "The password needs at least 8 characters"))
    } else if n > 128 {
        Some(("密码不能超过128个字符", "The password may have at most 128 characters"))
    } else if classes(password) < 2 {
        Some((
            "密码需包含字母、数字、符号中的至少两类",
            "The password needs at least two of: letters, digits, other characters",
        ))
    } else if password.eq_ignore_ascii_case(username) {
        Some(("密码不能与用户名相同", "The password may not be the username"))
    } else {
        None
    };
    match problem {
        Some((zh, en)) => Err(DomainError::invalid(vec![FieldError::new("password", zh, en)])),
        None => Ok(()),
    }
}

/// How many of letters, digits and other characters a password uses.
fn classes(p: &str) -> usize {
    let letters = p.chars().any(char::is_alphabetic);
    let digits = p.chars().any(|c| c.is_ascii_digit());
    let other = p.chars().any(|c| !c.is_alphanumeric());
    [letters, digits, other].iter().filter(|x| **x).count()
}

/// A random password that people can read out and type: no 0/O, 1/l/I.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    loop {
        let chars: String = (0..16)
            .map(|_| ALPHABET.get(rng.gen_range(0..ALPHABET.len())).map(|b| *b as char).unwrap_or('x'))
            .collect();
        if classes(&chars) >= 2 {
            return chars;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = Hasher::for_tests();
        let stored = h.hash("南翔安全2020!").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("南翔安全2020!", &stored));
        assert!(!h.verify("wrong", &stored));
        assert!(!h.verify("x", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", "u").is_err());
        assert!(check_policy("12345678", "u").is_err());
        assert!(check_policy("password", "u").is_err());
        assert!(check_policy("Admin123", "admin123").is_err());
        assert!(check_policy("good-pass-1", "admin").is_ok());
        for _ in 0..200 {
            assert!(check_policy(&generate(), "admin").is_ok());
        }
    }
}
