// Tabs of one session share a refresh. With refresh-token rotation (revokeRefreshToken), a
// refresh in one tab makes the other tabs' refresh tokens stale; the tab that refreshed shares
// its tokens, the others take them, and refreshes in two tabs at once wait for each other. A
// logout in one tab ends the session in the others at once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, signedIn, armScenario, backOnApp, countRefreshes, addFault, releaseFaults, ADAPTER } from './setup.mjs'

const world = useWorld({
  realm: (realm) => Object.assign(realm, { revokeRefreshToken: true, refreshTokenMaxReuse: 0 })
})

/** Two tabs of one browser profile, logged in to one SSO session, each with its own tokens. */
async function twoTabs () {
  const context = await world.browser.newContext()
  const first = await context.newPage()
  assert.deepEqual(await signedIn(world, first), { ok: true, value: true })
  const second = await context.newPage()
  await armScenario(second, world.app, ADAPTER, { config: world.config, initOptions: { onLoad: 'login-required' } })
  assert.deepEqual(await backOnApp(world, second), { ok: true, value: true })
  const [a, b] = await Promise.all([first, second].map((page) => page.evaluate(() => ({ sid: window.kc.sessionId, refreshToken: window.kc.refreshToken }))))
  assert.equal(a.sid, b.sid, 'one session')
  assert.notEqual(a.refreshToken, b.refreshToken, 'each tab has its own tokens')
  return { context, first, second }
}

const refreshToken = (page) => page.evaluate(() => window.kc.refreshToken)
const updateToken = (page) => page.evaluate(() => window.kc.updateToken(-1).then((v) => ({ ok: true, v }), (e) => ({ ok: false, e: e.message })))

test('a refresh in one tab reaches the others, so rotation logs nobody out', async () => {
  const { context, first, second } = await twoTabs()
  const refreshes = await Promise.all([first, second].map(countRefreshes))
  assert.deepEqual(await updateToken(first), { ok: true, v: true })
  const shared = await refreshToken(first)
  await second.waitForFunction((token) => window.kc.refreshToken === token, shared)
  assert.ok((await second.evaluate(() => window.events.map((e) => e.name))).includes('onAuthRefreshSuccess'))
  // The second tab refreshes with the token it was given; its own would be stale by now.
  assert.deepEqual(await updateToken(second), { ok: true, v: true })
  await first.waitForFunction((token) => window.kc.refreshToken === token, await refreshToken(second))
  assert.deepEqual(await updateToken(first), { ok: true, v: true })
  for (const page of [first, second]) assert.equal(await page.evaluate(() => window.kc.authenticated), true)
  assert.deepEqual(refreshes.map((r) => r.length), [2, 1])
  await context.close()
})

test('two tabs refreshing at once send one request, and both end up with its tokens', async () => {
  const { context, first, second } = await twoTabs()
  const refreshes = await Promise.all([first, second].map(countRefreshes))
  // The first tab's refresh hangs at devserver until the second tab waits for the lock: the two
  // refreshes overlap whatever the browser's scheduling.
  await addFault(world, { target: 'token', grantType: 'refresh_token', hang: true })
  const updates = [updateToken(first)]
  await first.waitForFunction(() => navigator.locks.query().then((s) => s.held.length === 1), null, { timeout: 10000 })
  updates.push(updateToken(second))
  await second.waitForFunction(() => navigator.locks.query().then((s) => s.pending.length === 1), null, { timeout: 10000 })
  await releaseFaults(world)
  const outcomes = await Promise.all(updates)
  assert.deepEqual(outcomes, [{ ok: true, v: true }, { ok: true, v: true }])
  assert.equal(refreshes[0].length + refreshes[1].length, 1, 'one refresh request')
  assert.equal(await refreshToken(first), await refreshToken(second))
  await context.close()
})

test('logout() in one tab ends the session in the others at once, without the session iframe', async () => {
  const context = await world.browser.newContext()
  const first = await context.newPage()
  assert.deepEqual(await signedIn(world, first), { ok: true, value: true })
  // check-sso (a full-page prompt=none round trip: this profile blocks third-party cookies), and
  // no session iframe: only the other tab can tell this one that the session ended.
  const second = await context.newPage()
  await armScenario(second, world.app, ADAPTER, { config: world.config, initOptions: { onLoad: 'check-sso', checkLoginIframe: false } })
  assert.deepEqual(await backOnApp(world, second), { ok: true, value: true })
  await first.evaluate(() => { window.kc.logout() })
  await second.waitForFunction(() => window.events.some((e) => e.name === 'onAuthLogout'))
  assert.deepEqual(await second.evaluate(() => [window.kc.authenticated, window.kc.token]), [false, undefined])
  assert.ok(second.url().startsWith(world.app.origin), 'the second tab stayed where it was')
  await context.close()
})
