// Shared pieces of the end-to-end tests: an "app" origin that serves test pages and the adapter
// under test, the devserver (a Keycloak stand-in) on another site, and headless Chromium.
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
import { chromium } from 'playwright-core'

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

const CHROMIUM_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--no-sandbox']

/** Headless Debian Chromium, with the flags this machine's closed network needs. */
export async function launchBrowser (extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...extraArgs]
  })
}

/**
 * A regular (non-incognito) Chromium profile of its own, as a persistent browser context.
 * `browser.newContext()` contexts are incognito-like, and Chromium blocks third-party cookies
 * there; a regular profile follows its cookie setting, written into
 * `Default/Preferences` before launch: `'allowed'` sends third-party cookies (so the embedded
 * devserver pages see the SSO cookies of an app on another site), `'blocked'` blocks them, as
 * Safari, Firefox's strict mode and Chrome's opt-in do. Closing the context ends the browser and
 * removes the profile.
 */
export async function launchProfile ({ thirdPartyCookies = 'allowed', args = [] } = {}) {
  if (!['allowed', 'blocked'].includes(thirdPartyCookies)) throw new Error(`thirdPartyCookies: ${thirdPartyCookies}`)
  const dir = await mkdtemp(join(tmpdir(), 'kc-profile-'))
  await mkdir(join(dir, 'Default'))
  const mode = thirdPartyCookies === 'allowed' ? 0 : 1
  await writeFile(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: mode } }))
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...args]
  })
  context.on('close', () => { rm(dir, { recursive: true, force: true }).catch(() => {}) })
  return context
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
