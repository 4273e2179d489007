//! Channel safety of design §4.3: the allow-list, HTTPS, and what people see of an address.

use bihuan_notify::{DEFAULT_ALLOWED_HOSTS, UrlError, check_webhook_url, is_loopback_host, redact};

const WECOM: &str =
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b1c-4e2d-9f3a-5c6d7e8f3f9a";
const DINGTALK: &str =
    "https://oapi.dingtalk.com/robot/send?access_token=1b2c3d4e5f60718293a4b5c6d7e8f90a";

fn check(url: &str, allowed: &[&str]) -> Result<(), UrlError> {
    check_webhook_url(url, allowed)
}

#[test]
fn the_robot_apis_are_allowed_by_default() {
    assert_eq!(check(WECOM, &DEFAULT_ALLOWED_HOSTS), Ok(()));
    assert_eq!(check(DINGTALK, &DEFAULT_ALLOWED_HOSTS), Ok(()));
    assert_eq!(
        check(
            "https://QYAPI.weixin.qq.com:443/cgi-bin/webhook/send?key=k",
            &DEFAULT_ALLOWED_HOSTS
        ),
        Ok(())
    );
}

#[test]
fn other_hosts_are_refused_even_when_disguised() {
    let host = |r: Result<(), UrlError>| match r {
        Err(UrlError::HostNotAllowed { host }) => host,
        other => panic!("expected HostNotAllowed, got {other:?}"),
    };
    assert_eq!(
        host(check("https://evil.example/hook", &DEFAULT_ALLOWED_HOSTS)),
        "evil.example"
    );
    assert_eq!(
        host(check(
            "https://qyapi.weixin.qq.com@evil.example/send",
            &DEFAULT_ALLOWED_HOSTS
        )),
        "evil.example"
    );
    assert_eq!(
        host(check(
            "https://qyapi.weixin.qq.com.evil.example/",
            &DEFAULT_ALLOWED_HOSTS
        )),
        "qyapi.weixin.qq.com.evil.example"
    );
    assert_eq!(
        host(check("https://10.0.0.5/hook", &DEFAULT_ALLOWED_HOSTS)),
        "10.0.0.5"
    );
    // Loopback is not exempt from the list, only from HTTPS.
    assert_eq!(
        host(check("http://127.0.0.1:8080/hook", &DEFAULT_ALLOWED_HOSTS)),
        "127.0.0.1"
    );
}

#[test]
fn https_is_required_except_to_loopback() {
    assert_eq!(
        check(
            "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            &DEFAULT_ALLOWED_HOSTS
        ),
        Err(UrlError::HttpsRequired {
            host: "qyapi.weixin.qq.com".to_owned()
        })
    );
    assert_eq!(
        check("http://gateway.internal/hook", &["gateway.internal"]),
        Err(UrlError::HttpsRequired {
            host: "gateway.internal".to_owned()
        })
    );
    assert_eq!(check("http://127.0.0.1:8080/hook", &["127.0.0.1"]), Ok(()));
    assert_eq!(check("http://localhost:8080/hook", &["localhost"]), Ok(()));
    assert_eq!(check("http://[::1]:8080/hook", &["::1"]), Ok(()));
    assert_eq!(check("http://[::1]:8080/hook", &["[::1]"]), Ok(()));
    assert_eq!(
        check("https://gateway.internal/hook", &["gateway.internal"]),
        Ok(())
    );
    assert!(
        is_loopback_host("127.0.0.1") && is_loopback_host("::1") && is_loopback_host("LOCALHOST")
    );
    assert!(is_loopback_host("[::1]") && is_loopback_host("127.3.2.1"));
    assert!(!is_loopback_host("10.0.0.1") && !is_loopback_host("localhost.evil.example"));
}

#[test]
fn only_web_urls_are_accepted() {
    assert_eq!(
        check("not a url", &DEFAULT_ALLOWED_HOSTS),
        Err(UrlError::Invalid)
    );
    assert_eq!(check("", &DEFAULT_ALLOWED_HOSTS), Err(UrlError::Invalid));
    assert_eq!(
        check("ftp://qyapi.weixin.qq.com/x", &DEFAULT_ALLOWED_HOSTS),
        Err(UrlError::Scheme {
            scheme: "ftp".to_owned()
        })
    );
    assert_eq!(
        check("file:///etc/passwd", &DEFAULT_ALLOWED_HOSTS),
        Err(UrlError::Scheme {
            scheme: "file".to_owned()
        })
    );
}

#[test]
fn errors_speak_both_languages_and_never_show_the_key() {
    let errors = [
        check("not a url", &DEFAULT_ALLOWED_HOSTS).unwrap_err(),
        check("ftp://x/y", &DEFAULT_ALLOWED_HOSTS).unwrap_err(),
        check(
            "https://evil.example/send?key=SECRETKEY",
            &DEFAULT_ALLOWED_HOSTS,
        )
        .unwrap_err(),
        check(
            "http://qyapi.weixin.qq.com/send?key=SECRETKEY",
            &DEFAULT_ALLOWED_HOSTS,
        )
        .unwrap_err(),
    ];
    for e in &errors {
        let (zh, en, log) = (e.zh(), e.en(), e.to_string());
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert!(en.is_ascii() || en.contains('“'), "{en}");
        for text in [&zh, &en, &log] {
            assert!(!text.contains("SECRETKEY"), "{text}");
        }
    }
    assert!(errors[2].zh().contains("evil.example") && errors[2].en().contains("allowed"));
    assert!(errors[3].zh().contains("https") && errors[3].en().contains("https"));
}

#[test]
fn redaction_shows_the_host_and_the_last_four_characters() {
    assert_eq!(redact(WECOM), "https://qyapi.weixin.qq.com/…3f9a");
    assert_eq!(redact(DINGTALK), "https://oapi.dingtalk.com/…f90a");
    assert!(!redact(WECOM).contains("693a91f6"));
    assert_eq!(redact("zhangsan@example.gov.cn"), "z***@example.gov.cn");
    assert_eq!(redact("张三@单位.cn"), "张***@单位.cn");
    assert_eq!(redact("SEC0123456789abcdef"), "****cdef");
    assert_eq!(redact("short"), "****");
    assert_eq!(redact(""), "****");
}
