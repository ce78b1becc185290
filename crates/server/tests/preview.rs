//! The search preview page at `/`, driven in a real headless Chromium against a real Quarry
//! loaded with the movies corpus and its settings: typing a misspelt title letter by letter,
//! narrowing with a genre facet, sorting, paging, and the API-key messages of a protected
//! instance. Screenshots are saved under `target/tmp/preview-screenshots/` for people to look at.
//!
//! Chromium and chromedriver come from Debian's `chromium` and `chromium-driver` packages, which
//! `scripts/test.sh` installs; set `QUARRY_CHROMIUM` or `QUARRY_CHROMEDRIVER` to use other binaries.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

fn chromium() -> PathBuf {
    let path = std::env::var_os("QUARRY_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test.sh (it installs Debian's chromium and chromium-driver) or set QUARRY_CHROMIUM",
        path.display()
    );
    path
}

/// A chromedriver process, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    let binary = std::env::var("QUARRY_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("starting {binary} ({e}): run ./scripts/test.sh, which installs chromium-driver")
        });
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, port }
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

async fn screenshot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("preview-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Evaluates a JavaScript expression in the page and returns its JSON value.
async fn eval(browser: &Client, expression: &str) -> Value {
    browser
        .execute(&format!("return ({expression});"), vec![])
        .await
        .unwrap_or_else(|e| panic!("evaluating `{expression}`: {e}"))
}

/// Polls `expression` until it is truthy; fails with `what` and the page's state otherwise.
async fn wait_for(browser: &Client, expression: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if eval(browser, &format!("!!({expression})")).await == json!(true) {
            return;
        }
        if Instant::now() > deadline {
            let state = eval(
                browser,
                "{message: document.getElementById('message').textContent, count: document.getElementById('count').textContent, first: (document.querySelector('.hit h2')||{}).textContent}",
            )
            .await;
            panic!("timed out waiting until {what}; page state: {state}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text(browser: &Client, expression: &str) -> String {
    eval(browser, expression)
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn hit_titles(browser: &Client) -> Vec<String> {
    serde_json::from_value(
        eval(
            browser,
            "[...document.querySelectorAll('.hit h2')].map(h => h.textContent)",
        )
        .await,
    )
    .unwrap()
}

/// A field shown on every hit card (`dt` name → `dd` text), in page order.
async fn hit_fields(browser: &Client, field: &str) -> Vec<String> {
    let values: Vec<Option<String>> = serde_json::from_value(
        eval(
            browser,
            &format!(
                "[...document.querySelectorAll('.hit')].map(card => {{ const dt = [...card.querySelectorAll('dt')].find(d => d.textContent === '{field}'); return dt ? dt.nextElementSibling.textContent : null; }})"
            ),
        )
        .await,
    )
    .unwrap();
    values.into_iter().map(Option::unwrap_or_default).collect()
}

async fn click(browser: &Client, selector: &str) {
    browser
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("finding {selector}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {selector}: {e}"));
}

async fn type_into(browser: &Client, selector: &str, text: &str) {
    browser
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("finding {selector}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {selector}: {e}"));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn typing_facets_sorting_and_paging_in_the_browser() {
    let s = server();
    let task = s
        .patch("/indexes/movies/settings", movies_settings())
        .task_uid();
    s.wait_ok(task);
    s.load_movies("movies");
    // What the page must show, asked of the API directly.
    let comedies = s.search(
        "movies",
        json!({"filter": "major_genre = Comedy", "limit": 0}),
    )["estimatedTotalHits"]
        .as_u64()
        .unwrap();
    let newest = s.search(
        "movies",
        json!({"filter": "major_genre = Comedy", "sort": ["release_year:desc"], "limit": 1}),
    )["hits"][0]["title"]
        .clone();
    let url = s.url("/");
    let driver = driver();
    runtime().block_on(async {
        let b = browser(&driver).await;
        b.goto(&url).await.unwrap();
        wait_for(&b, "document.querySelectorAll('.hit').length > 0", "a placeholder search shows hits").await;
        assert_eq!(text(&b, "document.getElementById('index').value").await, "movies");

        // A misspelt title, typed letter by letter: the film comes first, highlighted.
        for c in "jurasic park".chars() {
            type_into(&b, "#q", &c.to_string()).await;
        }
        wait_for(
            &b,
            "document.getElementById('q').value === 'jurasic park' && (document.querySelector('.hit h2')||{}).textContent === 'Jurassic Park'",
            "`jurasic park` shows Jurassic Park first",
        )
        .await;
        assert_eq!(eval(&b, "document.querySelector('.hit h2 mark') !== null").await, json!(true));
        screenshot(&b, "1-typo-search").await;

        // Escape clears the box; a genre facet narrows the count and the hits.
        type_into(&b, "#q", &char::from(Key::Escape).to_string()).await;
        wait_for(&b, "document.getElementById('q').value === ''", "the box is cleared").await;
        let comedy_box = "input[data-facet=\"major_genre\"][data-value=\"Comedy\"]";
        wait_for(&b, &format!("document.querySelector('{comedy_box}')"), "the major_genre facet lists Comedy").await;
        let facet_count = text(
            &b,
            &format!("document.querySelector('{comedy_box}').parentElement.querySelector('.count').textContent"),
        )
        .await;
        assert_eq!(facet_count, comedies.to_string(), "the facet counts the comedies");
        click(&b, comedy_box).await;
        wait_for(
            &b,
            &format!("document.getElementById('count').textContent.startsWith('{comedies} results')"),
            "the result count narrows to the comedies",
        )
        .await;
        assert!(hit_fields(&b, "major_genre").await.iter().all(|g| g == "Comedy"));
        screenshot(&b, "2-facet").await;

        // Sort by release year, newest first.
        eval(&b, "(() => { const s = document.getElementById('sort'); s.value = 'release_year:desc'; s.dispatchEvent(new Event('change')); return true; })()").await;
        wait_for(
            &b,
            &format!("(document.querySelector('.hit h2')||{{}}).textContent === {newest}"),
            "the newest comedy comes first",
        )
        .await;
        let years: Vec<i64> = hit_fields(&b, "release_year")
            .await
            .iter()
            .map(|y| y.parse().unwrap_or(i64::MIN))
            .collect();
        assert!(years.windows(2).all(|w| w[0] >= w[1]), "{years:?}");
        screenshot(&b, "3-sorted").await;

        // Page forward: other films, and the page number says so.
        let first_page = hit_titles(&b).await;
        click(&b, "#next").await;
        wait_for(
            &b,
            "document.getElementById('pageinfo').textContent.startsWith('Page 2 of')",
            "page 2 is shown",
        )
        .await;
        let second_page = hit_titles(&b).await;
        assert!(!second_page.is_empty());
        assert!(second_page.iter().all(|t| !first_page.contains(t)));
        screenshot(&b, "4-page-2").await;
        b.close().await.unwrap();
    });
}

#[test]
fn a_protected_instance_asks_for_a_key_and_says_when_it_is_wrong() {
    let key = "a-master-key-for-the-preview";
    let s = start_server(quarry_server::ServerConfig {
        master_key: Some(key.into()),
        ..Default::default()
    });
    let url = s.url("/");
    let driver = driver();
    runtime().block_on(async {
        let b = browser(&driver).await;
        b.goto(&url).await.unwrap();
        wait_for(
            &b,
            "document.getElementById('message').textContent.includes('enter an API key')",
            "the page asks for a key",
        )
        .await;
        type_into(
            &b,
            "#key",
            &format!("not-the-key{}", char::from(Key::Enter)),
        )
        .await;
        wait_for(
            &b,
            "document.getElementById('message').textContent.includes('The API key was refused')",
            "a wrong key is refused with a clear message",
        )
        .await;
        screenshot(&b, "5-wrong-key").await;
        eval(
            &b,
            "(() => { document.getElementById('key').value = ''; return true; })()",
        )
        .await;
        type_into(&b, "#key", &format!("{key}{}", char::from(Key::Enter))).await;
        wait_for(
            &b,
            "document.getElementById('message').textContent.includes('No index yet')",
            "with the right key the page says there is no index yet",
        )
        .await;
        assert_eq!(
            eval(&b, "localStorage.getItem('quarry.apiKey')").await,
            json!(key),
            "the key is kept in the browser"
        );
        screenshot(&b, "6-no-index-yet").await;
        b.close().await.unwrap();
    });
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
    let response = off.get("/");
    assert_eq!(
        (response.status, response.body),
        (404, serde_json::Value::Null)
    );
}
