// Shared pieces of the end-to-end tests: an "app" origin that serves test pages and the adapter
// under test, the devserver (a Keycloak stand-in) on another site, and a headless browser:
// Chromium, or Firefox ESR with `E2E_BROWSER=firefox`.
//
// The app runs on http://localhost:<port> and devserver on http://127.0.0.1:<port>: two different
// sites, as an SPA and its Keycloak are in production, so third-party-cookie rules apply.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { readFile, stat, mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { tmpdir } from 'node:os'
import { join, dirname, extname, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { chromium, firefox } from 'playwright-core'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The adapters a scenario can run against, by name: where each one's ES module is served. */
export const ADAPTERS = {
  'keycloak-js': '/adapters/keycloak-js/keycloak.js',
  'keycloak-wasm': '/adapters/keycloak-wasm/keycloak.js'
}

/** Adapters selected for this run: `E2E_ADAPTERS=keycloak-js,keycloak-wasm` (default: both). */
export function adaptersUnderTest () {
  const chosen = (process.env.E2E_ADAPTERS ?? Object.keys(ADAPTERS).join(',')).split(',').map((s) => s.trim()).filter(Boolean)
  for (const name of chosen) {
    if (!(name in ADAPTERS)) throw new Error(`unknown adapter '${name}' in E2E_ADAPTERS`)
  }
  return chosen
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.ts': 'text/plain'
}

/** Serves `file` if it exists inside `dir`; false when it does not. */
async function sendFile (res, dir, relative) {
  const file = normalize(join(dir, relative))
  if (!file.startsWith(normalize(dir))) return false
  try {
    if (!(await stat(file)).isFile()) return false
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    res.end(await readFile(file))
    return true
  } catch {
    return false
  }
}

/**
 * The page every scenario drives. It imports the adapter through an import map, exposes it as
 * `window.Keycloak`, and, when sessionStorage holds a `kc-test` entry ({ config, initOptions }),
 * creates `window.kc`, records every callback in `window.events` and runs init(), whose outcome
 * lands in `window.initResult` ({ ok, value } or { ok: false, error }). The entry survives the
 * redirects to the login page and back, so the same set-up runs again after each navigation.
 */
function appPage (adapter) {
  const imports = { keycloak: ADAPTERS[adapter] }
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>e2e ${adapter}</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module">
import Keycloak from 'keycloak'
window.Keycloak = Keycloak
window.events = []
const describeError = (e) => e === undefined ? { undefined: true } : {
  message: e?.message, name: e?.name, code: e?.code, error: e?.error,
  error_description: e?.error_description, status: e?.status, isError: e instanceof Error
}
window.describeError = describeError
// The /blank page only arms a scenario; it never runs one.
const raw = location.pathname.endsWith('/blank') ? null : sessionStorage.getItem('kc-test')
if (raw) {
  const { config, initOptions } = JSON.parse(raw)
  const kc = new Keycloak(config)
  window.kc = kc
  for (const name of ['onReady', 'onAuthSuccess', 'onAuthError', 'onAuthRefreshSuccess',
    'onAuthRefreshError', 'onAuthLogout', 'onTokenExpired', 'onActionUpdate']) {
    kc[name] = (...args) => window.events.push({ name, args: JSON.parse(JSON.stringify(args)) })
  }
  window.initResult = null
  kc.init(initOptions).then(
    (value) => { window.initResult = { ok: true, value } },
    (error) => { window.initResult = { ok: false, error: describeError(error) } })
    // Milliseconds since this document's navigation began (bench/latency.mjs reads it).
    .finally(() => { window.initSettledAt = performance.now() })
}
window.harnessReady = true
</script></head>
<body><h1>e2e app (${adapter})</h1></body></html>`
}

const SILENT_CHECK_SSO = `<!doctype html><html><body><script>
parent.postMessage(location.href, location.origin)
</script></body></html>`

// A silent check-sso page that first posts its answer with a forged state, then the real one.
const SILENT_CHECK_SSO_FORGED = `<!doctype html><html><body><script>
parent.postMessage(location.href.replace(/([#?&]state=)[^&]*/, '$1forged'), location.origin)
parent.postMessage(location.href, location.origin)
</script></body></html>`

// Posts each message of the JSON array in its fragment to the parent, for any origin: the
// look-alikes of the hidden iframes' answers that an adapter must ignore.
const ECHO = `<!doctype html><html><body><script>
for (const message of JSON.parse(decodeURIComponent(location.hash.slice(1)))) parent.postMessage(message, '*')
</script></body></html>`

const PAGES = {
  '/silent-check-sso.html': SILENT_CHECK_SSO,
  '/silent-check-sso-forged.html': SILENT_CHECK_SSO_FORGED,
  '/echo.html': ECHO
}

/**
 * Starts the app origin on http://localhost:<port>:
 * - `/app/<adapter>/...` the scenario page (any path below, so redirect URIs may carry paths);
 *   `/app/<adapter>/silent-check-sso.html` the page silent check-sso loads in its iframe,
 *   `silent-check-sso-forged.html` one that posts a forged state first, `echo.html#<JSON array>`
 *   a page that posts those messages to its parent;
 * - `/adapters/keycloak-js/` the official adapter, `/adapters/keycloak-wasm/` our built package
 *   (`pkgDir`, default `$E2E_PKG_DIR`, else pkg/);
 * - `/static/` files of `staticDir`, when given.
 */
export async function startAppServer ({ pkgDir = process.env.E2E_PKG_DIR ?? join(ROOT, 'pkg'), staticDir } = {}) {
  const keycloakJsDir = join(ROOT, 'node_modules', 'keycloak-js', 'lib')
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    const app = /^\/app\/([^/]+)(\/.*)?$/.exec(path)
    if (app && app[1] in ADAPTERS) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(PAGES[app[2]] ?? appPage(app[1]))
      return
    }
    let served = false
    if (path.startsWith('/adapters/keycloak-js/')) served = await sendFile(res, keycloakJsDir, path.slice(22))
    else if (path.startsWith('/adapters/keycloak-wasm/')) served = await sendFile(res, pkgDir, path.slice(24))
    else if (staticDir && path.startsWith('/static/')) served = await sendFile(res, staticDir, path.slice(8))
    if (!served) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('not found')
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://localhost:${server.address().port}`
  return {
    origin,
    /** The same server under another origin (and site): a stranger to the app's page. */
    otherOrigin: `http://127.0.0.1:${server.address().port}`,
    /** The scenario page of `adapter`, at `path` below it. */
    appUrl: (adapter, path = '/') => `${origin}/app/${adapter}${path}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) })
  }
}

/** The demo realm shipped with devserver, with its client opened to `appOrigin`. */
export async function demoRealm (appOrigin, overrides = {}) {
  const realm = JSON.parse(await readFile(join(ROOT, 'devserver', 'realms', 'demo.json'), 'utf8'))
  for (const client of realm.clients ?? []) {
    if (client.clientId === 'demo-app') {
      client.redirectUris = [`${appOrigin}/*`]
      client.webOrigins = [appOrigin]
    }
  }
  return { ...realm, ...overrides }
}

/**
 * Starts devserver on http://127.0.0.1:<free port> with the given realms (objects in Keycloak's
 * realm-export format). Resolves once it prints its address; `stop()` ends it.
 */
export async function startDevserver ({ realms = [], args = [] } = {}) {
  const bin = process.env.DEVSERVER_BIN ?? join(ROOT, 'target', 'debug', 'devserver')
  const dir = await mkdtemp(join(tmpdir(), 'kc-e2e-'))
  const realmArgs = []
  for (const [i, realm] of realms.entries()) {
    const file = join(dir, `realm-${i}.json`)
    await writeFile(file, JSON.stringify(realm))
    realmArgs.push('--import-realm', file)
  }
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0', ...realmArgs, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devserver did not start within 20 s\n${stderr}`)), 20000)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`devserver exited with ${code}\n${stderr}`)) })
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line)
      if (match) { clearTimeout(timer); resolve(match[1]) }
    })
  })
  return {
    url,
    stderr: () => stderr,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.on('exit', resolve)
      child.kill('SIGTERM')
    })
  }
}

/** The engines the e2e layer runs in, by the names `E2E_BROWSER` takes. */
export const ENGINES = ['chromium', 'firefox']

/** The engine of this run: `E2E_BROWSER=chromium|firefox` (default: chromium). */
export const ENGINE = (() => {
  const chosen = process.env.E2E_BROWSER ?? 'chromium'
  if (!ENGINES.includes(chosen)) throw new Error(`unknown engine '${chosen}' in E2E_BROWSER; engines: ${ENGINES.join(', ')}`)
  return chosen
})()

/** Options for `test()` that skip it in `engine`, with the reason shown in the test report. */
export const skipIn = (engine, reason) => (ENGINE === engine ? { skip: `${engine}: ${reason}` } : {})

const CHROMIUM_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--no-sandbox']

// Firefox ESR from Debian, driven over WebDriver BiDi (Playwright's `moz-firefox` channel).
const FIREFOX = { channel: 'moz-firefox', executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', headless: true }

// Keeps Firefox off the network it cannot reach (updates, telemetry, captive portal checks).
const FIREFOX_PREFS = {
  'app.update.auto': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  // A storage-access request from an embedded page, made without a user gesture after the user
  // visited its site, brings up a permission prompt that nobody answers in a headless browser:
  // it is answered "no" at once, as by a user who declines.
  'dom.storage_access.prompt.testing': true,
  'dom.storage_access.prompt.testing.allow': false
}

/**
 * Firefox ESR's BiDi lacks `emulation.setMediaFeaturesOverride` (newer releases have it), which
 * playwright-core sends for every new context to reset `prefers-color-scheme`. No test emulates
 * media features, so that one command is answered as done, without reaching the browser.
 */
function answerMissingBidiCommands () {
  const { server } = createRequire(import.meta.url)('playwright-core/lib/coreBundle')
  const transport = server?.WebSocketTransport?.prototype
  if (typeof transport?.send !== 'function') throw new Error('playwright-core changed: WebSocketTransport.send is gone; check Firefox ESR support again')
  if (transport.send.answersMissingBidi) return
  const send = transport.send
  const patched = function (message) {
    if (message?.method === 'emulation.setMediaFeaturesOverride') {
      queueMicrotask(() => this.onmessage?.({ type: 'success', id: message.id, result: {} }))
      return
    }
    return send.call(this, message)
  }
  patched.answersMissingBidi = true
  transport.send = patched
}

/**
 * Firefox's equivalents of the Chromium flags the tests pass: only `--host-resolver-rules=MAP
 * <host> 127.0.0.1` is used, and `network.dns.localDomains` resolves the host to loopback.
 */
function firefoxPrefsFor (args) {
  const prefs = { ...FIREFOX_PREFS }
  for (const arg of args) {
    const map = /^--host-resolver-rules=MAP (\S+) 127\.0\.0\.1$/.exec(arg)
    if (!map) throw new Error(`no Firefox equivalent for the Chromium flag '${arg}'`)
    prefs['network.dns.localDomains'] = [prefs['network.dns.localDomains'], map[1]].filter(Boolean).join(',')
  }
  return prefs
}

/**
 * The headless browser of this run (see ENGINE): Debian Chromium with the flags this machine's
 * closed network needs, or Firefox ESR. `extraArgs` are Chromium flags (translated for Firefox).
 */
export async function launchBrowser (extraArgs = []) {
  if (ENGINE === 'firefox') {
    answerMissingBidiCommands()
    return firefox.launch({ ...FIREFOX, firefoxUserPrefs: firefoxPrefsFor(extraArgs) })
  }
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...extraArgs]
  })
}

/**
 * A regular (non-incognito) browser profile of its own, as a persistent browser context, whose
 * third-party cookie setting is written before launch: `'allowed'` sends third-party cookies (so
 * the embedded devserver pages see the SSO cookies of an app on another site), `'blocked'` blocks
 * them, as Safari, Firefox's strict mode and Chrome's opt-in do. Chromium: `browser.newContext()`
 * contexts are incognito-like and block third-party cookies, so the setting goes into
 * `Default/Preferences` of a regular profile. Firefox: `network.cookie.cookieBehavior`, 0 (accept
 * all) or 1 (reject third-party); its default, 5, partitions them by top-level site, which an
 * embedded page sees as having none. Closing the context ends the browser and removes the profile.
 */
export async function launchProfile ({ thirdPartyCookies = 'allowed', args = [] } = {}) {
  if (!['allowed', 'blocked'].includes(thirdPartyCookies)) throw new Error(`thirdPartyCookies: ${thirdPartyCookies}`)
  const dir = await mkdtemp(join(tmpdir(), 'kc-profile-'))
  const mode = thirdPartyCookies === 'allowed' ? 0 : 1
  let context
  if (ENGINE === 'firefox') {
    answerMissingBidiCommands()
    context = await firefox.launchPersistentContext(dir, {
      ...FIREFOX,
      firefoxUserPrefs: { ...firefoxPrefsFor(args), 'network.cookie.cookieBehavior': mode }
    })
  } else {
    await mkdir(join(dir, 'Default'))
    await writeFile(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: mode } }))
    context = await chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_ARGS, ...args]
    })
  }
  context.on('close', () => { rm(dir, { recursive: true, force: true }).catch(() => {}) })
  return context
}

// Firefox reports this console notice as a page error: devserver's embedded pages, as Keycloak's,
// ask for storage access without a user gesture, and catch the refusal.
const STORAGE_ACCESS_NOTICE = /requestStorageAccess\(\) may only be requested from inside a short running user-generated event handler/

/** Whether a `pageerror` event is an error of the page's scripts, not a browser notice. */
export const isScriptError = (error) => !STORAGE_ACCESS_NOTICE.test(error.message)

/** Collects the page's script errors in `page.errors` from now on. */
export function collectPageErrors (page) {
  page.errors = []
  page.on('pageerror', (error) => { if (isScriptError(error)) page.errors.push(error.message) })
  return page
}

/**
 * Opens the scenario page of `adapter` in `page` with { config, initOptions } armed; returns once
 * the page reached `waitUntil` (Playwright's `goto` option; init() may still be running).
 */
export async function armScenario (page, app, adapter, { config, initOptions = {}, path = '/', waitUntil = 'load' }) {
  await page.goto(app.appUrl(adapter, '/blank'))
  await page.waitForFunction(() => window.harnessReady === true)
  await page.evaluate((entry) => sessionStorage.setItem('kc-test', JSON.stringify(entry)), { config, initOptions })
  await page.goto(app.appUrl(adapter, path), { waitUntil })
}

/** Waits for init() on the current page to settle and returns { ok, value | error }. */
export async function initOutcome (page) {
  await page.waitForFunction(() => window.initResult !== undefined && window.initResult !== null, null, { timeout: 20000 })
  return page.evaluate(() => window.initResult)
}

/**
 * init()'s outcome on whatever page the browser ends up on, waiting through navigations (a page
 * that left has not settled), for at most `timeout` milliseconds in all.
 */
export async function settled (page, timeout = 20000) {
  const deadline = Date.now() + timeout
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`init() did not settle within ${timeout} ms; the page is at ${page.url()}`)
    try {
      await page.waitForFunction(() => window.initResult !== undefined && window.initResult !== null, null, { timeout: left })
      return await page.evaluate(() => window.initResult)
    } catch (error) {
      if (error.name === 'TimeoutError') throw new Error(`init() did not settle within ${timeout} ms; the page is at ${page.url()}`)
      if (!/context was destroyed|navigat/i.test(error.message)) throw error
    }
  }
}
