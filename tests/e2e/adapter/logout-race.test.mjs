// A logout in one tab reaches the other tabs of the session only once the session has really
// ended: a provider may ask the user to confirm the logout first (devserver's knob makes it ask
// every time), and the user may say no. A code exchange that fails leaves a clear state.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, signedIn, armScenario, backOnApp, initOutcome, settled, submitLogin, admin, addFault, clearFaults, ADAPTER } from './setup.mjs'

const world = useWorld()

const eventNames = (page) => page.evaluate(() => window.events.map((e) => e.name))
const refreshToken = (page) => page.evaluate(() => window.kc.refreshToken)
/** Waits until the page holds another refresh token than `before`. */
const refreshedSince = (page, before) =>
  page.waitForFunction((token) => window.kc.refreshToken !== token, before, { timeout: 10000 })

/** A tab that logs out (no onLoad) and a login-required tab of the same SSO session. */
async function twoTabs () {
  await admin(world, 'PUT', '/admin/devserver/logout-confirmation', { always: true })
  const context = await world.browser.newContext()
  const leaving = await context.newPage()
  assert.deepEqual(await signedIn(world, leaving), { ok: true, value: true })
  const staying = await context.newPage()
  await armScenario(staying, world.app, ADAPTER, { config: world.config, initOptions: { onLoad: 'login-required' } })
  assert.deepEqual(await backOnApp(world, staying), { ok: true, value: true })
  const logins = []
  staying.on('request', (r) => { if (r.url().includes('/protocol/openid-connect/auth')) logins.push(r.url()) })
  return { context, leaving, staying, logins }
}

/** Starts logout() in `page` and waits for the provider's confirmation page. */
async function logoutAwaitingConfirmation (page) {
  await page.evaluate(() => { window.kc.logout() })
  await page.waitForSelector('#kc-logout')
}

test('while a logout waits for confirmation the other tabs stay logged in; once confirmed they go to the login form', async () => {
  const { context, leaving, staying, logins } = await twoTabs()
  const before = await refreshToken(staying)
  await logoutAwaitingConfirmation(leaving)
  // The staying tab hears of the logout and asks the server (a refresh): the session lives.
  await refreshedSince(staying, before)
  assert.equal(await staying.evaluate(() => window.kc.authenticated), true)
  assert.ok(!(await eventNames(staying)).includes('onAuthLogout'))
  assert.deepEqual(logins, [], 'no new login started')

  await leaving.click('#kc-logout')
  await leaving.waitForURL((url) => url.href.startsWith(world.app.origin))
  // The session is over: login-required shows the login form.
  await staying.waitForSelector('#username', { timeout: 20000 })
  assert.equal(logins.length, 1)
  await context.close()
})

test('a logout the user does not confirm leaves the other tabs logged in', async () => {
  const { context, leaving, staying, logins } = await twoTabs()
  const before = await refreshToken(staying)
  await logoutAwaitingConfirmation(leaving)
  await refreshedSince(staying, before)
  const checked = await refreshToken(staying)
  // The user turns back to the app instead of confirming; that tab tells the others to check.
  await leaving.goto(world.app.appUrl(ADAPTER, '/'))
  assert.deepEqual(await initOutcome(leaving), { ok: true, value: false })
  await refreshedSince(staying, checked)
  assert.equal(await staying.evaluate(() => window.kc.authenticated), true)
  assert.ok(!(await eventNames(staying)).includes('onAuthLogout'))
  assert.deepEqual(logins, [])
  await context.close()
})

/**
 * Records the names of the adapter callbacks a page fires across its navigations (the page's
 * own `window.events` is lost when it leaves).
 */
async function recordEvents (page) {
  const seen = []
  await page.exposeFunction('recordEvent', (name) => { seen.push(name) })
  await page.addInitScript(() => {
    let events
    Object.defineProperty(window, 'events', {
      configurable: true,
      get: () => events,
      set (list) {
        list.push = (...items) => {
          for (const item of items) window.recordEvent(item.name)
          return Array.prototype.push.apply(list, items)
        }
        events = list
      }
    })
  })
  return seen
}

test('a code exchange that fails sends login-required back to the login form, after onAuthError', async () => {
  const context = await world.browser.newContext()
  const page = await context.newPage()
  const seen = await recordEvents(page)
  await addFault(world, { target: 'token', grantType: 'authorization_code', status: 400, error: 'invalid_grant', errorDescription: 'Code not valid' })
  try {
    const promptLogin = page.waitForRequest((r) => r.url().includes('/protocol/openid-connect/auth') &&
      new URL(r.url()).searchParams.get('prompt') === 'login', { timeout: 20000 })
    await armScenario(page, world.app, ADAPTER, { config: world.config, initOptions: { onLoad: 'login-required' } })
    await submitLogin(page)
    await promptLogin
    assert.deepEqual(seen, ['onAuthError'])
    // The form again, not a silent loop: this time the login goes through.
    await submitLogin(page)
    assert.deepEqual(await backOnApp(world, page), { ok: true, value: true })
  } finally {
    await clearFaults(world)
  }
  await context.close()
})

test('a code exchange that fails leaves check-sso anonymous, after onAuthError', async () => {
  const context = await world.browser.newContext()
  const first = await context.newPage()
  assert.deepEqual(await signedIn(world, first), { ok: true, value: true })
  const page = await context.newPage()
  await addFault(world, { target: 'token', grantType: 'authorization_code', status: 400, error: 'invalid_grant', errorDescription: 'Code not valid' })
  try {
    await armScenario(page, world.app, ADAPTER, { config: world.config, initOptions: { onLoad: 'check-sso' } })
    const outcome = await settled(page)
    assert.equal(outcome.ok, false)
    assert.equal(outcome.error.error, 'invalid_grant')
    const events = await page.evaluate(() => window.events)
    assert.deepEqual(events.map((e) => e.name), ['onAuthError'])
    assert.equal(events[0].args[0]?.error, 'invalid_grant')
    assert.equal(await page.evaluate(() => window.kc.authenticated), false)
  } finally {
    await clearFaults(world)
  }
  await context.close()
})
