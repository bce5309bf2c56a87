//! An instant as a person reads it. The server renders it in UTC
//! ("2026-11-28 11:27 UTC") inside `<time datetime>`; once the page is live,
//! [`LocalTimes`] shows every such instant in the reader's local time and how
//! far away it is: "tomorrow at 12:27, in 23 hours".

use leptos::prelude::*;

/// `at` (Unix seconds) in a `<time>`; `testid` names it for tests. Rendered
/// on the server (inside an island too, where it hydrates the same text).
#[component]
pub fn Moment(at: i64, #[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    let utc = utc_text(at);
    let title = utc.clone();
    view! { <time datetime=rfc3339(at) title=title data-testid=testid>{utc}</time> }
}

/// Every instant on the page (`<time datetime>`) in the reader's time zone
/// and language: an island with no view of its own, once per page, after
/// the page's other islands. One island for all of them: an island per
/// instant costs the server a serialised prop and a wrapper each.
#[island]
pub fn LocalTimes() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    local::show_all();
}

/// "2026-11-28 11:27 UTC".
pub fn utc_text(at: i64) -> String {
    let mut text = String::with_capacity(20);
    minute_of(&mut text, at, ' ');
    text.push_str(" UTC");
    text
}

/// "2026-11-28T11:27:00Z", for `datetime`.
pub fn rfc3339(at: i64) -> String {
    let mut text = String::with_capacity(20);
    minute_of(&mut text, at, 'T');
    text.push(':');
    push_two(&mut text, at.rem_euclid(60));
    text.push('Z');
    text
}

/// "2026-11-28", `between`, "11:27": the UTC minute of `at`.
fn minute_of(text: &mut String, at: i64, between: char) {
    let (year, month, day, seconds) = civil(at);
    push_date(text, year, month, day);
    text.push(between);
    push_two(text, seconds / 3_600);
    text.push(':');
    push_two(text, seconds % 3_600 / 60);
}

/// "2026-11-28". Written digit by digit: every page shows a few instants,
/// and `format!` costs several times as much.
fn push_date(text: &mut String, year: i64, month: i64, day: i64) {
    if (0..10_000).contains(&year) {
        for unit in [1_000, 100, 10, 1] {
            text.push(digit(year / unit % 10));
        }
    } else {
        text.push_str(&format!("{year:04}"));
    }
    text.push('-');
    push_two(text, month);
    text.push('-');
    push_two(text, day);
}

fn push_two(text: &mut String, value: i64) {
    text.push(digit(value / 10 % 10));
    text.push(digit(value % 10));
}

fn digit(value: i64) -> char {
    char::from(b'0' + value.unsigned_abs() as u8)
}

/// The UTC calendar date and the second of that day of a Unix time
/// (Howard Hinnant's days-to-civil algorithm, proleptic Gregorian).
fn civil(at: i64) -> (i64, i64, i64, i64) {
    let days = at.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day, at.rem_euclid(86_400))
}

#[cfg(feature = "hydrate")]
mod local {
    use js_sys::{Array, Date, Intl::RelativeTimeFormat, Object, Reflect};
    use leptos::prelude::document;
    use wasm_bindgen::JsValue;

    /// Each `<time datetime>` of the page, described in its place.
    pub fn show_all() {
        let Ok(times) = document().query_selector_all("time[datetime]") else {
            return;
        };
        for index in 0..times.length() {
            let Some(time) = times.item(index) else {
                continue;
            };
            let Some(datetime) = wasm_bindgen::JsCast::dyn_ref::<web_sys::Element>(&time)
                .and_then(|time| time.get_attribute("datetime"))
            else {
                continue;
            };
            let milliseconds = Date::parse(&datetime);
            if milliseconds.is_finite() {
                time.set_text_content(Some(&describe(milliseconds)));
            }
        }
    }

    /// "today at 14:05, in 3 hours", in the browser's time zone and language.
    fn describe(milliseconds: f64) -> String {
        let then = Date::new(&JsValue::from_f64(milliseconds));
        let now = Date::new_0();
        let time_options = options(&[("hour", "2-digit"), ("minute", "2-digit")]);
        let time = String::from(then.to_locale_time_string_with_options("default", &time_options));
        let day = match calendar_days_between(&now, &then) {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            -1 => "yesterday".to_string(),
            _ => {
                let date_options =
                    options(&[("weekday", "short"), ("day", "numeric"), ("month", "short")]);
                format!(
                    "on {}",
                    String::from(then.to_locale_date_string("default", &date_options))
                )
            }
        };
        format!(
            "{day} at {time}, {}",
            relative(then.get_time() - now.get_time())
        )
    }

    fn options(pairs: &[(&str, &str)]) -> JsValue {
        let object = Object::new();
        for (key, value) in pairs {
            let _ = Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value));
        }
        object.into()
    }

    /// Local calendar days from `from` to `to`.
    fn calendar_days_between(from: &Date, to: &Date) -> i64 {
        let midnight = |date: &Date| {
            Date::new_with_year_month_day(
                date.get_full_year(),
                date.get_month() as i32,
                date.get_date() as i32,
            )
            .get_time()
        };
        ((midnight(to) - midnight(from)) / 86_400_000.0).round() as i64
    }

    /// "in 23 hours", "5 minutes ago", "just now".
    fn relative(milliseconds: f64) -> String {
        let seconds = milliseconds / 1_000.0;
        if seconds.abs() < 60.0 {
            return "just now".to_string();
        }
        let (value, unit) = if seconds.abs() < 3_600.0 {
            ((seconds / 60.0).round(), "minute")
        } else if seconds.abs() < 48.0 * 3_600.0 {
            ((seconds / 3_600.0).round(), "hour")
        } else {
            ((seconds / 86_400.0).round(), "day")
        };
        let format = RelativeTimeFormat::new(&Array::new(), &Object::new());
        String::from(format.format(value, unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_and_rfc3339_agree_with_the_calendar() {
        assert_eq!(utc_text(0), "1970-01-01 00:00 UTC");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_866_420), "2026-11-28T11:47:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_calendar_matches_the_time_crate_across_four_centuries() {
        use time::{format_description::well_known::Rfc3339, OffsetDateTime};
        let mut at = -2_208_988_800_i64; // 1900-01-01
        while at < 10_413_792_000 {
            // 2300-01-01, in steps that visit every month and hour.
            let expected = OffsetDateTime::from_unix_timestamp(at)
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            assert_eq!(rfc3339(at), expected);
            at += 86_400 * 3 + 3_607;
        }
    }
}
