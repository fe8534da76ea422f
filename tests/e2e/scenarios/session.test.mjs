// Living with a session: the session iframe noticing a logout made in another tab, refreshing
// (and failing to), logging out by GET and by POST, and watching a short-lived token expire.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  scenarioAdapters, useWorld, newPage, otherTab, arm, loginRequired, settled, snapshot,
  eventNames, waitForEvent, call, addFault, realmEvents
} from './setup.mjs'
import { passTime } from '../adapter/setup.mjs'

const world = useWorld({
  customize (realm) {
    const demo = realm.clients.find((c) => c.clientId === 'demo-app')
    realm.clients.push({
      ...demo,
      clientId: 'short-app',
      attributes: { ...demo.attributes, 'access.token.lifespan': '3' }
    })
  }
})

/**
 * An SSO session (logged in on a first tab) and a second tab whose adapter joined it with
 * check-sso: unlike login-required, check-sso does not start a new login when the session ends,
 * so the second tab stays put for the assertions.
 */
async function joinedSession (adapter, initOptions = {}) {
  const first = await newPage(world)
  await loginRequired(world, first, adapter)
  const page = await otherTab(first)
  await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso', ...initOptions } })
  assert.deepEqual(await settled(page), { ok: true, value: true })
  return page
}

/** Stops the page from re-running its scenario on the next app page it loads. */
const disarm = (page) => page.evaluate(() => sessionStorage.removeItem('kc-test'))

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('the session iframe notices a logout made in another tab', async () => {
      const page = await joinedSession(adapter, { checkLoginIframeInterval: 1 })
      const logoutUrl = await page.evaluate((redirectUri) => window.kc.createLogoutUrl({ redirectUri }), world.app.appUrl(adapter, '/logged-out'))
      const tab = await otherTab(page)
      await tab.goto(logoutUrl)
      await tab.waitForURL(world.app.appUrl(adapter, '/logged-out'))
      await waitForEvent(page, 'onAuthLogout')
      const kc = await snapshot(page)
      assert.equal(kc.authenticated, false)
      assert.equal(kc.token, undefined)
      assert.deepEqual(await eventNames(page), ['onAuthSuccess', 'onReady', 'onAuthLogout'])
      assert.equal(page.url(), world.app.appUrl(adapter, '/'), 'check-sso does not force a new login')
      await page.context().close()
    })

    test('updateToken refreshes, and keeps or drops the tokens on failures as the adapter decides', async () => {
      const page = await joinedSession(adapter)
      const before = await snapshot(page)
      const refreshed = await call(page, 'updateToken', -1)
      assert.deepEqual(refreshed, { ok: true, value: true })
      const after = await snapshot(page)
      assert.notEqual(after.token, before.token)
      assert.equal(after.sessionId, before.sessionId)
      assert.ok((await eventNames(page)).includes('onAuthRefreshSuccess'))

      await addFault(world, { target: 'token', grantType: 'refresh_token', status: 503 })
      const unavailable = await call(page, 'updateToken', -1)
      assert.equal(unavailable.ok, false)
      assert.equal((await snapshot(page)).token, after.token, 'a 5xx keeps the tokens')
      assert.ok((await eventNames(page)).includes('onAuthRefreshError'))

      await addFault(world, { target: 'token', grantType: 'refresh_token', status: 400, error: 'invalid_grant', errorDescription: 'Session not active' })
      const rejected = await call(page, 'updateToken', -1)
      assert.equal(rejected.ok, false)
      assert.equal((await snapshot(page)).token, undefined, 'a 400 clears them')

      const kinds = (await realmEvents(world)).map((e) => e.type)
      assert.equal(kinds[0], 'REFRESH_TOKEN', 'faults answer before devserver records anything')
      await page.context().close()
    })

    for (const logoutMethod of ['GET', 'POST']) {
      test(`logout by ${logoutMethod} ends the SSO session and returns to the app`, async () => {
        const page = await newPage(world)
        await loginRequired(world, page, adapter)
        const { sessionId } = await snapshot(page)
        await disarm(page)
        const requests = []
        page.on('request', (r) => { if (r.url().includes('/openid-connect/logout')) requests.push(r) })
        const target = world.app.appUrl(adapter, '/bye')
        await page.evaluate(([redirectUri, logoutMethod]) => { window.kc.logout({ redirectUri, logoutMethod }) }, [target, logoutMethod])
        await page.waitForURL(target)
        assert.equal(requests.length, 1)
        assert.equal(requests[0].method(), logoutMethod)
        const events = await realmEvents(world)
        assert.equal(events[0].type, 'LOGOUT')
        assert.equal(events[0].sessionId, sessionId)

        const tab = await otherTab(page)
        await arm(world, tab, adapter, { initOptions: { onLoad: 'check-sso' } })
        assert.deepEqual(await settled(tab), { ok: true, value: false }, 'no SSO session any more')
        await page.context().close()
      })
    }

    test('a token with a 3 s lifespan expires: onTokenExpired, then a refresh', async () => {
      const page = await newPage(world)
      // The 3 s pass on devserver's and the page's clocks, not on the wall clock.
      await page.clock.install()
      const config = { ...world.config, clientId: 'short-app' }
      await loginRequired(world, page, adapter, { config })
      const kc = await snapshot(page)
      assert.equal(kc.tokenParsed.exp - kc.tokenParsed.iat, 3)
      assert.equal(kc.tokenParsed.azp, 'short-app')
      assert.deepEqual(await call(page, 'isTokenExpired'), { ok: true, value: false })
      assert.equal((await eventNames(page)).includes('onTokenExpired'), false)
      await passTime(world, page, 4)
      await waitForEvent(page, 'onTokenExpired', 5000)
      assert.deepEqual(await call(page, 'isTokenExpired'), { ok: true, value: true })
      assert.deepEqual(await call(page, 'updateToken', 1), { ok: true, value: true })
      assert.deepEqual(await call(page, 'isTokenExpired'), { ok: true, value: false })
      await page.context().close()
    })
  })
}
