//! A small, synchronous Chrome DevTools Protocol client: enough to drive one
//! headless Chromium tab like a person (type into fields, click with the
//! mouse, follow navigations, read the page, take screenshots and PDFs).
//!
//! Chromium is started with `--remote-debugging-port=0`; the port it chose
//! is read from `DevToolsActivePort` in its (temporary) profile directory,
//! and one WebSocket carries every command, using a flattened session for
//! the tab.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long any one wait (a navigation, an element, a command) may take.
/// Generous: CI machines are slow and shared.
pub const WAIT: Duration = Duration::from_secs(60);

/// The viewport of every page (a common laptop screen).
pub const WIDTH: u32 = 1366;
/// See [`WIDTH`].
pub const HEIGHT: u32 = 900;

type Res<T> = Result<T, String>;

/// The Chromium executable: `PORTCULLIS_CHROMIUM`, else the usual names on
/// the usual paths.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PORTCULLIS_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "headless_shell",
    ];
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/lib/chromium"));
    for d in &dirs {
        for n in names {
            let p = d.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// One headless Chromium with one tab.
pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Chromium's profile and log; removed when the browser is dropped.
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.send(Message::text(
            json!({"id": 0, "method": "Browser.close"}).to_string(),
        ));
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts `exe` headless and opens a blank tab of [`WIDTH`]×[`HEIGHT`].
    pub fn launch(exe: &Path) -> Res<Browser> {
        let profile = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let log = std::fs::File::create(profile.path().join("chromium.log"))
            .map_err(|e| format!("chromium log: {e}"))?;
        let child = Command::new(exe)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-component-update",
                "--disable-crash-reporter",
                "--disable-breakpad",
                "--hide-scrollbars",
                "--mute-audio",
                "--force-device-scale-factor=1",
                "--lang=en-GB",
                "--window-size=1366,900",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.path().join("p").display()
            ))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: cannot start: {e}", exe.display()))?;
        let mut child = child;
        let ws = match Browser::connect(&mut child, &profile) {
            Ok(ws) => ws,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        // From here on, dropping the browser stops Chromium.
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 1,
            _profile: profile,
        };
        b.open_tab()?;
        Ok(b)
    }

    /// Waits for Chromium's DevTools port and opens the WebSocket to it.
    fn connect(child: &mut Child, profile: &tempfile::TempDir) -> Res<WebSocket<TcpStream>> {
        let port_file = profile.path().join("p").join("DevToolsActivePort");
        let deadline = Instant::now() + WAIT;
        let (port, path) = loop {
            if let Ok(s) = std::fs::read_to_string(&port_file) {
                let mut lines = s.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    if let Ok(port) = port.trim().parse::<u16>() {
                        break (port, path.trim().to_owned());
                    }
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(profile.path().join("chromium.log"))
                    .unwrap_or_default();
                return Err(format!("chromium exited at start ({status}):\n{log}"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromium did not open its DevTools port in {WAIT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("DevTools port {port}: {e}"))?;
        stream
            .set_read_timeout(Some(WAIT))
            .map_err(|e| e.to_string())?;
        let url = format!("ws://127.0.0.1:{port}{path}");
        let (ws, _) = tungstenite::client(url.as_str(), stream)
            .map_err(|e| format!("DevTools WebSocket {url}: {e}"))?;
        // From now on reads wake up often, so that waits keep their deadlines.
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        Ok(ws)
    }

    fn open_tab(&mut self) -> Res<()> {
        let t = self.call_browser("Target.createTarget", json!({"url": "about:blank"}))?;
        let target = t["targetId"].as_str().ok_or("no targetId")?.to_owned();
        let s = self.call_browser(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )?;
        self.session = s["sessionId"].as_str().ok_or("no sessionId")?.to_owned();
        self.call("Page.enable", json!({}))?;
        self.call("Runtime.enable", json!({}))?;
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        Ok(())
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Res<Value> {
        self.send(method, params, None)
    }

    /// Sends a command to the tab and waits for its result.
    pub fn call(&mut self, method: &str, params: Value) -> Res<Value> {
        let s = self.session.clone();
        self.send(method, params, Some(&s))
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Res<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .map_err(|e| format!("{method}: send: {e}"))?;
        let deadline = Instant::now() + WAIT;
        loop {
            if Instant::now() > deadline {
                return Err(format!("{method}: no answer in {WAIT:?}"));
            }
            let m = match self.ws.read() {
                Ok(m) => m,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue
                }
                Err(e) => return Err(format!("{method}: DevTools connection: {e}")),
            };
            let Message::Text(text) = m else { continue };
            let v: Value = serde_json::from_str(text.as_str())
                .map_err(|e| format!("{method}: bad DevTools message: {e}"))?;
            if v["id"].as_u64() != Some(id) {
                // An event, or the answer to a command we gave up on.
                if v["method"] == "Page.javascriptDialogOpening" {
                    return Err(format!("unexpected dialog: {}", v["params"]["message"]));
                }
                continue;
            }
            if let Some(err) = v.get("error") {
                return Err(format!("{method}: {err}"));
            }
            return Ok(v["result"].clone());
        }
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, expr: &str) -> Res<Value> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!(
                "script failed: {}",
                ex["exception"]["description"]
                    .as_str()
                    .unwrap_or_else(|| ex["text"].as_str().unwrap_or("?"))
            ));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Polls `expr` until it is truthy; returns its value. `what` names the
    /// wait in the error, which also shows the page's heading and URL.
    pub fn wait_for(&mut self, expr: &str, what: &str) -> Res<Value> {
        let deadline = Instant::now() + WAIT;
        let mut last_err = String::new();
        loop {
            match self.eval(expr) {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(_) => {}
                Err(e) => last_err = e,
            }
            if Instant::now() > deadline {
                let here = self.eval("location.href").unwrap_or_default();
                let text = self.text().unwrap_or_default();
                let text: String = text.chars().take(1500).collect();
                return Err(format!(
                    "waited {WAIT:?} for {what}; at {here}; last error: {last_err}\npage text:\n{text}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn mark_document(&mut self) -> Res<()> {
        self.eval("window.__portcullisOld = true")?;
        Ok(())
    }

    fn wait_new_document(&mut self, what: &str) -> Res<()> {
        self.wait_for(
            "!window.__portcullisOld && document.readyState === 'complete'",
            what,
        )?;
        Ok(())
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn goto(&mut self, url: &str) -> Res<()> {
        self.mark_document()?;
        let r = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(e) = r["errorText"].as_str() {
            return Err(format!("{url}: {e}"));
        }
        self.wait_new_document(&format!("{url} to load"))
    }

    /// The current URL.
    pub fn url(&mut self) -> Res<String> {
        Ok(self
            .eval("location.href")?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The current path and query.
    pub fn path(&mut self) -> Res<String> {
        Ok(self
            .eval("location.pathname + location.search")?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The page's visible text.
    pub fn text(&mut self) -> Res<String> {
        Ok(self
            .eval("document.body ? document.body.innerText : ''")?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// The text of the first `h1`.
    pub fn h1(&mut self) -> Res<String> {
        Ok(self
            .eval("(document.querySelector('h1') || {innerText: ''}).innerText.trim()")?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// Types `value` into the (first visible) field named `name`, replacing
    /// what is there; selects an option (by value or label) of a `select`.
    pub fn fill(&mut self, name: &str, value: &str) -> Res<()> {
        let kind = self.eval(&format!(
            "(() => {{ const el = {}; if (!el) return null;
               el.scrollIntoView({{block: 'center'}}); el.focus();
               if (el.tagName === 'SELECT') {{
                 const want = {};
                 const o = Array.from(el.options).find(o => o.value === want)
                        || Array.from(el.options).find(o => o.text.trim() === want)
                        || Array.from(el.options).find(o => o.text.trim().toLowerCase().includes(want.toLowerCase()));
                 if (!o) return 'no-option';
                 el.value = o.value;
                 el.dispatchEvent(new Event('input', {{bubbles: true}}));
                 el.dispatchEvent(new Event('change', {{bubbles: true}}));
                 return 'select';
               }}
               if (['date', 'datetime-local', 'time', 'month', 'week', 'color', 'range'].includes(el.type)) {{
                 el.value = {};
                 el.dispatchEvent(new Event('input', {{bubbles: true}}));
                 el.dispatchEvent(new Event('change', {{bubbles: true}}));
                 return el.value === {} ? 'set' : 'bad-value';
               }}
               if (typeof el.select === 'function') el.select();
               el.value = '';
               return el.tagName; }})()",
            find_field(name),
            js(value),
            js(value),
            js(value)
        ))?;
        match kind.as_str() {
            None => Err(format!(
                "no field named {name:?} on {}",
                self.url().unwrap_or_default()
            )),
            Some("no-option") => Err(format!("select {name:?} has no option {value:?}")),
            Some("select" | "set") => Ok(()),
            Some("bad-value") => Err(format!("field {name:?} does not take {value:?}")),
            Some(_) => {
                if !value.is_empty() {
                    self.call("Input.insertText", json!({"text": value}))?;
                }
                self.eval(&format!(
                    "(() => {{ const el = {}; el.dispatchEvent(new Event('change', {{bubbles: true}})); }})()",
                    find_field(name)
                ))?;
                Ok(())
            }
        }
    }

    /// Ticks the radio button or checkbox `name` with `value` (clicking it).
    pub fn choose(&mut self, name: &str, value: &str) -> Res<()> {
        let expr = format!(
            "Array.from(document.querySelectorAll('input[name=' + CSS.escape({}) + ']')).find(e => e.value === {})",
            js(name),
            js(value)
        );
        self.mouse_click(&expr, &format!("{name}={value}"))?;
        let checked = self.eval(&format!("({expr}).checked"))?;
        if checked != json!(true) {
            return Err(format!("{name}={value} is not ticked after a click"));
        }
        Ok(())
    }

    /// Clicks the button (or submit input) whose text is `text` and waits
    /// for the page it leads to.
    pub fn click_button(&mut self, text: &str) -> Res<()> {
        self.click_and_follow(&find_clickable("button, input[type=submit]", text), text)
    }

    /// Clicks the link whose text is `text` and waits for the page.
    pub fn click_link(&mut self, text: &str) -> Res<()> {
        self.click_and_follow(&find_clickable("a[href]", text), text)
    }

    /// Clicks the element matching `selector` whose text starts with
    /// `text` (a `summary`, a tab…) where the click changes the page in
    /// place, without loading another.
    pub fn click_in_place(&mut self, selector: &str, text: &str) -> Res<()> {
        self.mouse_click(&find_clickable(selector, text), text)
    }

    /// Whether a button with this text is on the page.
    pub fn has_button(&mut self, text: &str) -> Res<bool> {
        Ok(truthy(&self.eval(&format!(
            "!!{}",
            find_clickable("button, input[type=submit]", text)
        ))?))
    }

    fn click_and_follow(&mut self, expr: &str, what: &str) -> Res<()> {
        self.mark_document()?;
        self.mouse_click(expr, what)?;
        self.wait_new_document(&format!("the page after clicking {what:?}"))
    }

    /// Scrolls the element `expr` into view and clicks its centre with the
    /// mouse, after checking that nothing covers it there.
    fn mouse_click(&mut self, expr: &str, what: &str) -> Res<()> {
        let at = self.eval(&format!(
            "(() => {{ const el = {expr}; if (!el) return null;
               el.scrollIntoView({{block: 'center', inline: 'center'}});
               // The first box: a link that wraps has one per line.
               const r = el.getClientRects()[0] || el.getBoundingClientRect();
               if (r.width === 0 || r.height === 0) return 'hidden';
               const x = r.left + r.width / 2, y = r.top + r.height / 2;
               const hit = document.elementFromPoint(x, y);
               if (!hit || !(hit === el || el.contains(hit) || (el.labels && Array.from(el.labels).some(l => l.contains(hit))))) return 'covered';
               return [x, y]; }})()"
        ))?;
        let (x, y) = match &at {
            Value::Array(a) if a.len() == 2 => (a[0].as_f64(), a[1].as_f64()),
            Value::String(s) => return Err(format!("{what:?} is {s} on {}", self.url()?)),
            _ => {
                let h1 = self.h1().unwrap_or_default();
                return Err(format!(
                    "nothing to click called {what:?} on {} (heading {h1:?})",
                    self.url()?
                ));
            }
        };
        let (Some(x), Some(y)) = (x, y) else {
            return Err(format!("{what:?}: no position"));
        };
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        )?;
        for t in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": t, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )?;
        }
        Ok(())
    }

    /// Fetches `url` from the page (same origin, with its cookies) and
    /// returns `{status, type, disposition, body}`.
    pub fn fetch(&mut self, url: &str) -> Res<Value> {
        self.eval(&format!(
            "fetch({}, {{credentials: 'same-origin'}}).then(r => r.text().then(body => ({{
               status: r.status, type: r.headers.get('content-type') || '',
               disposition: r.headers.get('content-disposition') || '', body}})))",
            js(url)
        ))
    }

    /// A PNG of the viewport.
    pub fn screenshot(&mut self) -> Res<Vec<u8>> {
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "fromSurface": true}),
        )?;
        decode_b64(r["data"].as_str().ok_or("no screenshot data")?)
    }

    /// The page printed to PDF (as the browser's print would).
    pub fn print_pdf(&mut self) -> Res<Vec<u8>> {
        let r = self.call(
            "Page.printToPDF",
            json!({"printBackground": true, "preferCSSPageSize": true}),
        )?;
        decode_b64(r["data"].as_str().ok_or("no PDF data")?)
    }
}

fn decode_b64(s: &str) -> Res<Vec<u8>> {
    data_encoding::BASE64
        .decode(s.as_bytes())
        .map_err(|e| format!("bad base64 from DevTools: {e}"))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// A JavaScript string literal.
pub fn js(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// An expression for the first visible field named `name` (else the first).
fn find_field(name: &str) -> String {
    format!(
        "(() => {{ const all = Array.from(document.querySelectorAll('[name=' + CSS.escape({}) + ']'))
             .filter(e => e.type !== 'hidden');
           return all.find(e => e.offsetParent !== null) || all[0] || null; }})()",
        js(name)
    )
}

/// An expression for the first visible element matching `selector` whose
/// text (or value, or aria-label) is `text`: exact first, then the one that
/// starts with it, ignoring case and spacing.
fn find_clickable(selector: &str, text: &str) -> String {
    format!(
        "(() => {{ const all = Array.from(document.querySelectorAll({})); return {}; }})()",
        js(selector),
        match_text("all", text)
    )
}

fn match_text(list: &str, text: &str) -> String {
    format!(
        "(() => {{ const norm = s => (s || '').replace(/\\s+/g, ' ').trim().toLowerCase();
           const want = norm({});
           const label = e => norm(e.innerText || e.value || e.getAttribute('aria-label'));
           const vis = {list}.filter(e => e.offsetParent !== null);
           return vis.find(e => label(e) === want)
               || vis.find(e => label(e).startsWith(want))
               || vis.find(e => label(e).includes(want)) || null; }})()",
        js(text)
    )
}
