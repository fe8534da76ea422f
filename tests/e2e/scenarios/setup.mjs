// Shared set-up of the adapter scenarios. The adapter under test is a parameter: the scenarios
// run once per adapter named in E2E_ADAPTERS (default: both, the official keycloak-js as the
// reference behaviour and keycloak-wasm; `E2E_ADAPTERS=keycloak-js` runs one).
import { before, after } from 'node:test'
import {
  adaptersUnderTest, startAppServer, startDevserver, launchProfile, demoRealm, armScenario, settled, collectPageErrors
} from '../harness.mjs'

export { adaptersUnderTest as scenarioAdapters }

/**
 * Registers before/after hooks for one app origin, one devserver with the demo realm (its
 * client opened to the app, implicit flow allowed); `customize(realm, app)` may
 * change the realm before devserver starts. Each page gets a browser profile of its own
 * (`newPage`). Returns the context the hooks fill in.
 */
export function useWorld ({ customize } = {}) {
  const world = { contexts: new Set() }
  before(async () => {
    world.app = await startAppServer()
    const realm = await demoRealm(world.app.origin)
    for (const client of realm.clients) {
      if (client.clientId === 'demo-app') client.implicitFlowEnabled = true
    }
    customize?.(realm, world.app)
    world.server = await startDevserver({ realms: [realm] })
    world.config = { url: world.server.url, realm: 'demo', clientId: 'demo-app' }
  })
  after(async () => {
    // Profiles of tests that failed before closing them.
    await Promise.all([...world.contexts].map((context) => context.close()))
    await world.server?.stop()
    await world.app?.close()
  })
  return world
}

/**
 * A fresh browser profile (own cookies and storage) and a page in it. By default the profile
 * allows third-party cookies, so the devserver pages embedded in the app (session iframe,
 * third-party-cookie check, silent check-sso) see the SSO cookies, as with Keycloak in a browser
 * that allows them; `thirdPartyCookies: 'blocked'` blocks them, as Safari, Firefox's strict mode
 * and Chrome's opt-in do. Closing the page's context ends that browser.
 */
export async function newPage (world, { thirdPartyCookies = 'allowed' } = {}) {
  const context = await launchProfile({ thirdPartyCookies })
  world.contexts.add(context)
  context.on('close', () => world.contexts.delete(context))
  return collectPageErrors(context.pages()[0] ?? await context.newPage())
}

/** A second tab in the same context (same cookies), e.g. to log out "elsewhere". */
export async function otherTab (page) {
  return collectPageErrors(await page.context().newPage())
}

/** Fills devserver's login form (Keycloak's element ids) and submits it. */
export async function submitLogin (page, username = 'alice', password = username) {
  await page.waitForSelector('#kc-login')
  await page.fill('#username', username)
  await page.fill('#password', password)
  await page.click('#kc-login')
}

export { settled }

/**
 * Arms init() on the adapter's page; returns once the page has loaded, or reached `waitUntil`
 * (init may be running).
 */
export async function arm (world, page, adapter, { initOptions = {}, path = '/', config, waitUntil } = {}) {
  await armScenario(page, world.app, adapter, { config: config ?? world.config, initOptions, path, waitUntil })
}

/** login-required: arms init(), fills the login form, and returns init()'s outcome on the app. */
export async function loginRequired (world, page, adapter, { initOptions = {}, username = 'alice', path = '/', config } = {}) {
  await arm(world, page, adapter, { initOptions: { onLoad: 'login-required', ...initOptions }, path, config })
  await submitLogin(page, username)
  await page.waitForURL((url) => url.href.startsWith(world.app.origin + '/app/'))
  return settled(page)
}

/** The adapter's public state. */
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
      refreshTokenParsed: kc.refreshTokenParsed,
      subject: kc.subject,
      sessionId: kc.sessionId,
      realmAccess: kc.realmAccess,
      timeSkew: kc.timeSkew,
      responseMode: kc.responseMode,
      flow: kc.flow,
      href: location.href
    }
  })
}

/** The names of the adapter callbacks fired so far on this page. */
export function eventNames (page) {
  return page.evaluate(() => window.events.map((e) => e.name))
}

/** Waits until the adapter has fired callback `name` on this page. */
export async function waitForEvent (page, name, timeout = 20000) {
  await page.waitForFunction((n) => window.events.some((e) => e.name === n), name, { timeout })
}

/** Runs `method(...args)` on window.kc and returns { ok, value } or { ok: false, error }. */
export function call (page, method, ...args) {
  return page.evaluate(async ([method, args]) => {
    try {
      const value = await window.kc[method](...args)
      return { ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) }
    } catch (error) {
      return { ok: false, error: window.describeError(error) }
    }
  }, [method, args])
}

/** A master-realm admin token for devserver's admin API and fault knobs. */
export async function adminToken (world) {
  const response = await fetch(`${world.server.url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' })
  })
  return (await response.json()).access_token
}

/** Adds a devserver fault rule (see devserver's README section). */
export async function addFault (world, rule) {
  const response = await fetch(`${world.server.url}/admin/devserver/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken(world)}`, 'content-type': 'application/json' },
    body: JSON.stringify(rule)
  })
  if (response.status !== 201) throw new Error(`fault rule refused: ${await response.text()}`)
  return response.json()
}

/** Events devserver recorded for the demo realm, newest first. */
export async function realmEvents (world) {
  const response = await fetch(`${world.server.url}/admin/realms/demo/events`, {
    headers: { authorization: `Bearer ${await adminToken(world)}` }
  })
  return response.json()
}
