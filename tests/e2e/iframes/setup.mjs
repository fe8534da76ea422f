// Shared pieces of the hidden-iframe tests: the scenario world (app on http://localhost, devserver
// on http://127.0.0.1: different sites), browser profiles with third-party cookies allowed or
// blocked, and ways to look into the page: its iframes, its window's listeners, the messages it
// receives, and look-alike messages posted by frames that are not the adapter's.
import assert from 'node:assert/strict'
import { ENGINE } from '../harness.mjs'
import {
  useWorld, newPage as scenarioPage, otherTab, arm, loginRequired, settled, adminToken
} from '../scenarios/setup.mjs'

export { useWorld, otherTab, arm, loginRequired, settled }
export {
  scenarioAdapters, snapshot, eventNames, waitForEvent, call, addFault, submitLogin
} from '../scenarios/setup.mjs'

/**
 * A fresh browser profile and a page in it (see the scenarios' `newPage`). In Firefox its pages
 * count their window's listeners from the start, for `windowListeners`.
 */
export async function newPage (world, options) {
  const page = await scenarioPage(world, options)
  if (ENGINE === 'firefox') await page.context().addInitScript(countWindowListeners)
  return page
}

/**
 * Runs in each document before its scripts: wraps add/removeEventListener to keep the window's
 * listeners by type, as the browser does (one per listener and capture flag; `once` and an
 * aborted `signal` remove them), and answers `windowListenerCount(type)`.
 */
function countWindowListeners () {
  const listeners = new Map()
  const captureOf = (options) => typeof options === 'boolean' ? options : Boolean(options?.capture)
  const find = (type, listener, capture) => (listeners.get(type) ?? []).findIndex((l) => l.listener === listener && l.capture === capture)
  const forget = (type, listener, capture) => {
    const index = find(type, listener, capture)
    if (index >= 0) listeners.get(type).splice(index, 1)
  }
  const { addEventListener: add, removeEventListener: remove } = EventTarget.prototype
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    const capture = captureOf(options)
    if (this === window && listener && !options?.signal?.aborted && find(type, listener, capture) < 0) {
      listeners.set(type, [...(listeners.get(type) ?? []), { listener, capture }])
      if (options?.once) add.call(this, type, () => forget(type, listener, capture), { once: true, capture })
      options?.signal?.addEventListener('abort', () => forget(type, listener, capture))
    }
    return add.call(this, type, listener, options)
  }
  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    if (this === window) forget(type, listener, captureOf(options))
    return remove.call(this, type, listener, options)
  }
  Object.defineProperty(window, 'windowListenerCount', { value: (type) => (listeners.get(type) ?? []).length })
}

/** Calls one of devserver's fault knobs (`/admin/devserver/faults...`) as the admin. */
async function faultKnob (world, method, path = '') {
  const response = await fetch(`${world.server.url}/admin/devserver/faults${path}`, {
    method,
    headers: { authorization: `Bearer ${await adminToken(world)}` }
  })
  if (!response.ok) throw new Error(`${method} /admin/devserver/faults${path}: ${response.status}`)
}

/** Removes every devserver fault rule, and lets the requests they hung go on. */
export async function clearFaults (world) {
  await faultKnob(world, 'DELETE')
  await releaseFaults(world)
}

/** Lets the requests that fault rules hang so far go on to their answers. */
export const releaseFaults = (world) => faultKnob(world, 'POST', '/release')

/** Whether init() is still pending on the page. */
export const initPending = async (page) => (await page.evaluate(() => window.initResult ?? null)) === null

/** The silent check-sso page of `adapter` on the app. */
export const silentUri = (world, adapter, page = 'silent-check-sso.html') => world.app.appUrl(adapter, `/${page}`)

/**
 * An SSO session: a fresh profile logged in with login-required on its first tab. That tab has
 * no session iframe, so that only the tab under test asks devserver's session page (and meets
 * the fault rules meant for it).
 */
export async function ssoSession (world, adapter, { thirdPartyCookies = 'allowed' } = {}) {
  const page = await newPage(world, { thirdPartyCookies })
  const initOptions = { checkLoginIframe: false }
  assert.deepEqual(await loginRequired(world, page, adapter, { initOptions }), { ok: true, value: true })
  return page
}

/**
 * A second tab of `first`'s profile whose adapter joined its SSO session with check-sso and
 * the session iframe (which, unlike login-required, starts no new login when the session ends).
 */
export async function joinedTab (world, first, adapter, initOptions = {}) {
  const page = await otherTab(first)
  await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', ...initOptions } })
  assert.deepEqual(await settled(page), { ok: true, value: true })
  return page
}

/** Ends the SSO session from a third tab, through the adapter's logout URL, and closes it. */
export async function logoutElsewhere (world, page, adapter) {
  const back = world.app.appUrl(adapter, '/logged-out')
  const url = await page.evaluate((redirectUri) => window.kc.createLogoutUrl({ redirectUri }), back)
  const tab = await otherTab(page)
  await tab.goto(url)
  await tab.waitForURL(back)
  await tab.close()
}

/** Collects the page's main-frame navigations from now on. */
export function documents (page) {
  const seen = []
  page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) seen.push(r.url()) })
  return seen
}

/** Collects the URLs of the requests whose URL contains `part`, from now on. */
export function requests (page, part) {
  const seen = []
  page.on('request', (r) => { if (r.url().includes(part)) seen.push(r.url()) })
  return seen
}

/** Collects the console messages of the page from now on. */
export function consoleLines (page) {
  const lines = []
  page.on('console', (m) => lines.push({ type: m.type(), text: m.text() }))
  return lines
}

/** From now on, the messages the page's window receives go to `window.seen` ({ origin, data }). */
export const recordMessages = (page) => page.evaluate(() => {
  window.seen = []
  window.addEventListener('message', (e) => window.seen.push({ origin: e.origin, data: typeof e.data === 'string' ? e.data : null }))
})

export const seen = (page) => page.evaluate(() => window.seen)

/** Waits until the page has received a message matching { origin, data } since recording began. */
export function waitForMessage (page, { origin, data }, timeout = 20000) {
  return page.waitForFunction(([o, d]) => window.seen.some((m) => m.origin === o && m.data === d), [origin, data], { timeout })
}

/** A page that posts `messages` to its parent (any target origin). */
export const echoUrl = (origin, adapter, messages) =>
  `${origin}/app/${adapter}/echo.html#${encodeURIComponent(JSON.stringify(messages))}`

/** Adds a visible iframe of `url` (not the adapter's) to the page; resolves once it loaded. */
export const addFrame = (page, url) => page.evaluate((src) => new Promise((resolve) => {
  const frame = document.createElement('iframe')
  frame.onload = () => resolve()
  frame.src = src
  document.body.append(frame)
}), url)

/** The iframes in the page, by title (or URL when untitled). */
export const iframes = (page) => page.evaluate(() => [...document.querySelectorAll('iframe')].map((f) => f.title || f.src))

/**
 * How many `type` listeners the page's window has: Chromium tells through the DevTools protocol;
 * in Firefox, whose WebDriver BiDi has no such query, the count kept since the document began
 * (see `newPage`).
 */
export async function windowListeners (page, type) {
  if (ENGINE === 'firefox') return page.evaluate((t) => window.windowListenerCount(t), type)
  const cdp = await page.context().newCDPSession(page)
  try {
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'window' })
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId })
    return listeners.filter((l) => l.type === type).length
  } finally {
    await cdp.detach()
  }
}

/** The login states left in the page's localStorage (`kc-callback-*`). */
export const storedStates = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('kc-callback-')))

/**
 * Makes the page look hidden (or visible again) to scripts, as a background tab does, and fires
 * `visibilitychange` as the browser would. Headless Chromium has no background tabs, so
 * `document.hidden` and `document.visibilityState` are redefined on the document.
 */
export const setHidden = (page, hidden) => page.evaluate((h) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => h })
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') })
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
}, hidden)
