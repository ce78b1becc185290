//! The search preview page at `/`, driven in a real headless Chromium against a real Quarry
//! loaded with the movies corpus and its settings: typing a misspelt title letter by letter,
//! narrowing with a genre facet, sorting, paging, and the API-key messages of a protected
//! instance. Screenshots are saved under `target/tmp/preview-screenshots/` for people to look at.
//!
//! Chromium comes from Debian's `chromium` package, which `scripts/test.sh` installs; set
//! `QUARRY_CHROMIUM` to use another binary.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::{json, Value};

fn chromium() -> PathBuf {
    let path = std::env::var_os("QUARRY_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test.sh (it installs Debian's chromium) or set QUARRY_CHROMIUM",
        path.display()
    );
    path
}

fn browser() -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 1000)))
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Browser::new(options).expect("launching chromium")
}

fn screenshot(tab: &Tab, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("preview-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("a screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Evaluates a JavaScript expression in the page and returns its JSON value.
fn eval(tab: &Tab, expression: &str) -> Value {
    tab.evaluate(expression, false)
        .unwrap_or_else(|e| panic!("evaluating `{expression}`: {e}"))
        .value
        .unwrap_or(Value::Null)
}

/// Polls `expression` until it is truthy; fails with `what` and the page's state otherwise.
#[track_caller]
fn wait_for(tab: &Tab, expression: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = eval(tab, &format!("!!({expression})"));
        if value == json!(true) {
            return;
        }
        if Instant::now() > deadline {
            let state = eval(
                tab,
                "JSON.stringify({message: document.getElementById('message').textContent, count: document.getElementById('count').textContent, first: (document.querySelector('.hit h2')||{}).textContent})",
            );
            panic!("timed out waiting until {what}; page state: {state}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(tab: &Tab, expression: &str) -> String {
    eval(tab, expression)
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn hit_titles(tab: &Tab) -> Vec<String> {
    let value = eval(
        tab,
        "JSON.stringify([...document.querySelectorAll('.hit h2')].map(h => h.textContent))",
    );
    serde_json::from_str(value.as_str().unwrap()).unwrap()
}

/// A field shown on every hit card (`dt` name → `dd` text), in page order.
fn hit_fields(tab: &Tab, field: &str) -> Vec<String> {
    let value = eval(
        tab,
        &format!(
            "JSON.stringify([...document.querySelectorAll('.hit')].map(card => {{ const dt = [...card.querySelectorAll('dt')].find(d => d.textContent === '{field}'); return dt ? dt.nextElementSibling.textContent : null; }}))"
        ),
    );
    let values: Vec<Option<String>> = serde_json::from_str(value.as_str().unwrap()).unwrap();
    values.into_iter().map(Option::unwrap_or_default).collect()
}

fn load_movies_with_settings(server: &Server, uid: &str) {
    let task = server
        .patch(&format!("/indexes/{uid}/settings"), movies_settings())
        .task_uid();
    server.wait_ok(task);
    server.load_movies(uid);
}

#[test]
fn typing_facets_sorting_and_paging_in_the_browser() {
    let s = server();
    load_movies_with_settings(s, "movies");
    let browser = browser();
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(&s.url("/")).unwrap();
    tab.wait_until_navigated().unwrap();
    wait_for(
        &tab,
        "document.querySelectorAll('.hit').length > 0",
        "a placeholder search shows hits",
    );
    assert_eq!(
        text(&tab, "document.getElementById('index').value"),
        "movies"
    );

    // A misspelt title, typed letter by letter: the film comes first.
    tab.wait_for_element("#q").unwrap().click().unwrap();
    for c in "jurasic prk".chars() {
        tab.type_str(&c.to_string()).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    wait_for(
        &tab,
        "document.getElementById('q').value === 'jurasic prk' && (document.querySelector('.hit h2')||{}).textContent === 'Jurassic Park'",
        "`jurasic prk` shows Jurassic Park first",
    );
    assert!(
        eval(&tab, "document.querySelector('.hit h2 mark') !== null") == json!(true),
        "the match is highlighted"
    );
    screenshot(&tab, "1-typo-search");

    // Back to every film, then a genre facet: the count and the hits narrow to it.
    tab.press_key("Escape").unwrap();
    wait_for(
        &tab,
        "document.getElementById('q').value === ''",
        "the box is cleared",
    );
    wait_for(
        &tab,
        "document.querySelector('input[data-facet=\"major_genre\"][data-value=\"Comedy\"]')",
        "the major_genre facet lists Comedy",
    );
    let comedies = s.search(
        "movies",
        json!({"filter": "major_genre = Comedy", "limit": 0}),
    )["estimatedTotalHits"]
        .as_u64()
        .unwrap();
    let facet_count = text(
        &tab,
        "document.querySelector('input[data-facet=\"major_genre\"][data-value=\"Comedy\"]').parentElement.querySelector('.count').textContent",
    );
    assert_eq!(
        facet_count,
        comedies.to_string(),
        "the facet count is the number of comedies"
    );
    tab.wait_for_element("input[data-facet=\"major_genre\"][data-value=\"Comedy\"]")
        .unwrap()
        .click()
        .unwrap();
    wait_for(
        &tab,
        &format!(
            "document.getElementById('count').textContent.startsWith('{} results')",
            comedies
        ),
        "the result count narrows to the comedies",
    );
    assert!(hit_fields(&tab, "major_genre")
        .iter()
        .all(|g| g == "Comedy"));
    screenshot(&tab, "2-facet");

    // Sort by release year, newest first.
    eval(
        &tab,
        "(() => { const s = document.getElementById('sort'); s.value = 'release_year:desc'; s.dispatchEvent(new Event('change')); return true; })()",
    );
    let newest = s.search(
        "movies",
        json!({"filter": "major_genre = Comedy", "sort": ["release_year:desc"], "limit": 1}),
    )["hits"][0]["title"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(
        &tab,
        &format!(
            "(document.querySelector('.hit h2')||{{}}).textContent === {}",
            json!(newest)
        ),
        "the newest comedy comes first",
    );
    let years: Vec<i64> = hit_fields(&tab, "release_year")
        .iter()
        .map(|y| y.parse().unwrap_or(i64::MIN))
        .collect();
    assert!(years.windows(2).all(|w| w[0] >= w[1]), "{years:?}");
    screenshot(&tab, "3-sorted");

    // Page forward: other films, and the page number says so.
    let first_page = hit_titles(&tab);
    tab.wait_for_element("#next").unwrap().click().unwrap();
    wait_for(
        &tab,
        "document.getElementById('pageinfo').textContent.startsWith('Page 2 of')",
        "page 2 is shown",
    );
    let second_page = hit_titles(&tab);
    assert!(!second_page.is_empty());
    assert!(second_page.iter().all(|t| !first_page.contains(t)));
    screenshot(&tab, "4-page-2");
}

#[test]
fn a_protected_instance_asks_for_a_key_and_says_when_it_is_wrong() {
    let key = "a-master-key-for-the-preview";
    let s = start_server(quarry_server::ServerConfig {
        master_key: Some(key.into()),
        ..Default::default()
    });
    let browser = browser();
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(&s.url("/")).unwrap();
    tab.wait_until_navigated().unwrap();
    wait_for(
        &tab,
        "document.getElementById('message').textContent.includes('enter an API key')",
        "the page asks for a key",
    );
    tab.wait_for_element("#key").unwrap().click().unwrap();
    tab.type_str("not-the-key").unwrap();
    tab.press_key("Enter").unwrap();
    wait_for(
        &tab,
        "document.getElementById('message').textContent.includes('The API key was refused')",
        "a wrong key is refused with a clear message",
    );
    screenshot(&tab, "5-wrong-key");
    eval(&tab, "document.getElementById('key').value = ''");
    tab.wait_for_element("#key").unwrap().click().unwrap();
    tab.type_str(key).unwrap();
    tab.press_key("Enter").unwrap();
    wait_for(
        &tab,
        "document.getElementById('message').textContent.includes('No index yet')",
        "with the right key the page says there is no index yet",
    );
    assert_eq!(
        eval(&tab, "localStorage.getItem('quarry.apiKey')"),
        json!(key),
        "the key is kept in the browser"
    );
    screenshot(&tab, "6-no-index-yet");
}

#[test]
fn the_page_is_self_contained_and_can_be_turned_off() {
    let s = server();
    let response = s.client.get(s.url("/")).send().unwrap();
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let page = response.text().unwrap();
    assert!(page.contains("<title>Quarry search preview</title>"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing is fetched from elsewhere"
    );

    let off = start_server(quarry_server::ServerConfig {
        dashboard: false,
        ..Default::default()
    });
    assert_error(off.get("/"), 404, "not_found");
}
