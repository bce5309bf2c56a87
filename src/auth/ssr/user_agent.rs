//! A person's name for the device behind a session ("Chrome on Linux"), from
//! the User-Agent at sign-in, through the woothee parser.

/// The longest label kept; a User-Agent is the client's to write.
const MAX_LABEL: usize = 64;

/// "Browser on OS", "Browser", "OS", or "Unknown device".
pub fn describe(user_agent: Option<&str>) -> String {
    let parsed = user_agent.and_then(|text| woothee::parser::Parser::new().parse(text));
    let known = |name: &str| {
        (!name.is_empty() && name != woothee::woothee::VALUE_UNKNOWN).then(|| name.to_string())
    };
    let label = match parsed {
        Some(result) => match (known(result.name), known(result.os)) {
            (Some(browser), Some(os)) => format!("{browser} on {os}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => "Unknown device".to_string(),
        },
        None => "Unknown device".to_string(),
    };
    label
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LABEL)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_read_as_browser_on_os() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(describe(Some(chrome)), "Chrome on Linux");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
        assert_eq!(describe(Some(firefox)), "Firefox on Windows 10");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(Some(safari)), "Safari on iPhone");
    }

    #[test]
    fn anything_else_is_an_unknown_device_never_raw_text() {
        assert_eq!(describe(None), "Unknown device");
        assert_eq!(describe(Some("")), "Unknown device");
        let odd = describe(Some("<script>alert(1)</script>\u{202e}"));
        assert!(!odd.contains('<'), "{odd}");
        assert!(odd.chars().count() <= MAX_LABEL);
    }
}
