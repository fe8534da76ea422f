// Shared set-up of the keycloak-wasm scenarios: one app origin, one devserver with the demo
// realm (its client opened to the app and to implicit and hybrid flows), one browser.
import { before, after } from 'node:test'
import {
  ENGINE, startAppServer, startDevserver, launchBrowser, demoRealm, armScenario, initOutcome, settled, collectPageErrors
} from '../harness.mjs'

export const ADAPTER = 'keycloak-wasm'

/** Registers before/after hooks and returns a context filled in by them. */
export function useWorld ({ realm: customize, staticDir, browserArgs = [] } = {}) {
  const world = {}
  before(async () => {
    world.app = await startAppServer({ staticDir })
    const realm = await demoRealm(world.app.origin)
    for (const client of realm.clients ?? []) {
      if (client.clientId === 'demo-app') client.implicitFlowEnabled = true
    }
    customize?.(realm, world.app)
    world.server = await startDevserver({ realms: [realm] })
    world.browser = await launchBrowser(browserArgs)
    world.config = { url: world.server.url, realm: 'demo', clientId: 'demo-app' }
  })
  after(async () => {
    await world.browser?.close()
    await world.server?.stop()
    await world.app?.close()
  })
  return world
}

/** Fills devserver's login form (Keycloak's element ids) and submits it. */
export async function submitLogin (page, username = 'alice', password = username) {
  await page.waitForSelector('#username')
  await page.fill('#username', username)
  await page.fill('#password', password)
  await page.click('#kc-login')
}

/** A fresh page (own cookies and storage) in the world's browser. */
export async function newPage (world) {
  const context = await world.browser.newContext()
  return collectPageErrors(await context.newPage())
}

/**
 * Arms init() with `initOptions`, expects devserver's login form, logs in as `username`, and
 * returns init()'s outcome back on the app.
 */
export async function loginWith (world, page, { initOptions = { onLoad: 'login-required' }, path = '/', username = 'alice', config } = {}) {
  await armScenario(page, world.app, ADAPTER, { config: config ?? world.config, initOptions, path })
  await submitLogin(page, username)
  return backOnApp(world, page)
}

/** Waits until the browser is back on the app and init() has settled there. */
export async function backOnApp (world, page) {
  await page.waitForURL((url) => url.href.startsWith(world.app.origin + '/app/'))
  return initOutcome(page)
}

/**
 * Arms init() and waits for its outcome after a round trip to devserver that needs no form
 * (check-sso, an SSO session): the authorization request is seen first, then init() settles
 * on the page the server sent the browser back to.
 */
export async function armAndRoundTrip (world, page, options) {
  const authorization = page.waitForRequest((r) => r.url().includes('/protocol/openid-connect/auth'))
  await armScenario(page, world.app, ADAPTER, { config: world.config, ...options })
  await authorization
  return settled(page)
}

export { settled }

/** Reads the public properties of window.kc. */
export function snapshot (page) {
  return page.evaluate(() => {
    const kc = window.kc
    return {
      authenticated: kc.authenticated,
      token: kc.token,
      refreshToken: kc.refreshToken,
      idToken: kc.idToken,
      tokenParsed: kc.tokenParsed,
      idTokenParsed: kc.idTokenParsed,
      subject: kc.subject,
      sessionId: kc.sessionId,
      realmAccess: kc.realmAccess,
      resourceAccess: kc.resourceAccess,
      timeSkew: kc.timeSkew,
      responseMode: kc.responseMode,
      responseType: kc.responseType,
      flow: kc.flow,
      clientId: kc.clientId,
      realm: kc.realm,
      authServerUrl: kc.authServerUrl,
      loginRequired: kc.loginRequired,
      href: location.href
    }
  })
}

export { armScenario, initOutcome }

/**
 * Signs in without onLoad: init({ ...initOptions }) resolves false, the test calls login(),
 * logs in as `username`, and init() on the returning page settles (authenticated, and
 * `loginRequired` false, so clearing the tokens does not start a new login).
 */
export async function signedIn (world, page, { initOptions = {}, username = 'alice', config } = {}) {
  await armScenario(page, world.app, ADAPTER, { config: config ?? world.config, initOptions })
  const first = await settled(page)
  if (!first.ok || first.value !== false) throw new Error(`init() before login: ${JSON.stringify(first)}`)
  await page.evaluate(() => { window.kc.login() })
  await submitLogin(page, username)
  return backOnApp(world, page)
}

/** An admin access token of devserver's master realm. */
export async function adminToken (world) {
  const response = await fetch(`${world.server.url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' })
  })
  if (!response.ok) throw new Error(`admin login: ${response.status}`)
  return (await response.json()).access_token
}

/** Calls devserver's admin API. */
export async function admin (world, method, path, body) {
  const response = await fetch(`${world.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await adminToken(world)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return response.status === 204 ? undefined : response.json()
}

/** Shifts devserver's clock `seconds` further: its tokens, codes, sessions and hub connections age. */
export async function shiftServerClock (world, seconds) {
  const { offsetSeconds } = await admin(world, 'GET', '/admin/devserver/clock')
  await admin(world, 'PUT', '/admin/devserver/clock', { offsetSeconds: offsetSeconds + seconds })
}

/**
 * Lets `seconds` pass at once for devserver and for `page`, whose context's clock the test
 * installed (`page.clock.install()`, before the page loads): devserver's clock shifts first, then
 * the page's clock jumps and fires the timers that fell due (each once).
 */
export async function passTime (world, page, seconds) {
  await shiftServerClock(world, seconds)
  await page.clock.fastForward(seconds * 1000)
}

/** Adds a fault rule (see devserver's faults): the next matching requests fail, hang or wait. */
export const addFault = (world, rule) => admin(world, 'POST', '/admin/devserver/faults', rule)
export const clearFaults = (world) => admin(world, 'DELETE', '/admin/devserver/faults')
/** Lets the requests that fault rules hung so far go on to their answers. */
export const releaseFaults = (world) => admin(world, 'POST', '/admin/devserver/faults/release')

let refreshRecorders = 0

/**
 * The refresh requests the page sends to the token endpoint from now on, in an array that grows
 * with each. Chromium reports request bodies; Firefox's WebDriver BiDi does not, so there the
 * page's `fetch` (of this document and the next ones) reports each refresh through a binding.
 */
export async function countRefreshes (page) {
  const seen = []
  const isRefresh = (url, body) => url.endsWith('/protocol/openid-connect/token') && new URLSearchParams(body).get('grant_type') === 'refresh_token'
  if (ENGINE !== 'firefox') {
    page.on('request', (r) => { if (isRefresh(r.url(), r.postData() ?? '')) seen.push(r.url()) })
    return seen
  }
  const binding = `recordRefresh${++refreshRecorders}`
  await page.exposeBinding(binding, (_source, url) => { seen.push(url) })
  const wrapFetch = ([binding, isRefreshSource]) => {
    // eslint-disable-next-line no-eval
    const isRefresh = (0, eval)(isRefreshSource)
    const fetch = window.fetch
    window.fetch = function (input, init) {
      const url = String(input?.url ?? input)
      if (isRefresh(url, String(init?.body ?? ''))) window[binding](url)
      return fetch.apply(this, arguments)
    }
  }
  await page.addInitScript(wrapFetch, [binding, isRefresh.toString()])
  await page.evaluate(wrapFetch, [binding, isRefresh.toString()])
  return seen
}
