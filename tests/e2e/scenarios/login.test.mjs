// Logging in: login-required, check-sso through the session iframe and through silent check-sso,
// the query response mode, the implicit and hybrid flows, and requested scopes. The app runs on
// http://localhost and devserver on http://127.0.0.1: different sites, as in production.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  scenarioAdapters, useWorld, newPage, otherTab, arm, loginRequired, settled, snapshot, eventNames, submitLogin
} from './setup.mjs'

const world = useWorld()

for (const adapter of scenarioAdapters()) {
  describe(adapter, () => {
    test('login-required shows the login page and comes back authenticated', async () => {
      const page = await newPage(world)
      const outcome = await loginRequired(world, page, adapter)
      assert.deepEqual(outcome, { ok: true, value: true })
      const kc = await snapshot(page)
      assert.equal(kc.authenticated, true)
      assert.equal(kc.tokenParsed.preferred_username, 'alice')
      assert.equal(kc.tokenParsed.iss, `${world.server.url}/realms/demo`)
      assert.equal(kc.sessionId, kc.tokenParsed.sid)
      assert.equal(kc.idTokenParsed.nonce !== undefined, true)
      assert.equal(kc.refreshTokenParsed.typ, 'Refresh')
      assert.deepEqual(kc.realmAccess.roles.includes('user'), true)
      assert.equal(kc.href, world.app.appUrl(adapter, '/'), 'the callback parameters are gone')
      assert.deepEqual(await eventNames(page), ['onAuthSuccess', 'onReady'])
      assert.deepEqual(page.errors, [])
      await page.context().close()
    })

    test('check-sso without a session stays on the app, unauthenticated', async () => {
      const page = await newPage(world)
      const authRequests = []
      page.on('request', (r) => { if (r.url().includes('/openid-connect/auth')) authRequests.push(r.url()) })
      await arm(world, page, adapter, { initOptions: { onLoad: 'check-sso' } })
      assert.deepEqual(await settled(page), { ok: true, value: false })
      assert.equal(authRequests.length, 0, 'the session iframe answered "unchanged": no redirect needed')
      assert.equal((await snapshot(page)).authenticated, false)
      await page.context().close()
    })

    test('check-sso with an SSO session logs in without a form (session iframe sees the cookie)', async () => {
      const page = await newPage(world)
      await loginRequired(world, page, adapter)
      const first = await snapshot(page)
      const tab = await otherTab(page)
      const authRequests = []
      tab.on('request', (r) => { if (r.url().includes('/openid-connect/auth')) authRequests.push(new URL(r.url())) })
      await arm(world, tab, adapter, { initOptions: { onLoad: 'check-sso' } })
      assert.deepEqual(await settled(tab), { ok: true, value: true })
      assert.equal(authRequests.length, 1, 'the iframe saw the session cookie change: one prompt=none redirect')
      assert.equal(authRequests[0].searchParams.get('prompt'), 'none')
      const second = await snapshot(tab)
      assert.equal(second.sessionId, first.sessionId, 'the same SSO session')
      assert.notEqual(second.token, first.token)
      await page.context().close()
    })

    test('silent check-sso logs in inside a hidden iframe, across sites', async () => {
      const page = await newPage(world)
      await loginRequired(world, page, adapter)
      const silentUri = world.app.appUrl(adapter, '/silent-check-sso.html')
      const tab = await otherTab(page)
      const documents = []
      tab.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === tab.mainFrame()) documents.push(r.url()) })
      await arm(world, tab, adapter, { initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silentUri, checkLoginIframe: false } })
      assert.deepEqual(await settled(tab), { ok: true, value: true })
      assert.deepEqual(documents, [world.app.appUrl(adapter, '/blank'), world.app.appUrl(adapter, '/')], 'the page itself never left the app')
      assert.equal((await snapshot(tab)).tokenParsed.preferred_username, 'alice')

      const fresh = await newPage(world)
      await arm(world, fresh, adapter, { initOptions: { onLoad: 'check-sso', silentCheckSsoRedirectUri: silentUri, checkLoginIframe: false } })
      assert.deepEqual(await settled(fresh), { ok: true, value: false }, 'no session: login_required, quietly')
      await page.context().close()
      await fresh.context().close()
    })

    test('the query response mode puts the code in the query string', async () => {
      const page = await newPage(world)
      const callbacks = []
      page.on('request', (r) => { if (r.url().startsWith(world.app.origin + '/app/') && r.url().includes('code=')) callbacks.push(new URL(r.url())) })
      const outcome = await loginRequired(world, page, adapter, { initOptions: { responseMode: 'query' } })
      assert.deepEqual(outcome, { ok: true, value: true })
      assert.equal(callbacks.length, 1)
      assert.ok(callbacks[0].searchParams.get('code'))
      assert.equal(callbacks[0].searchParams.get('iss'), `${world.server.url}/realms/demo`)
      const kc = await snapshot(page)
      assert.equal(kc.responseMode, 'query')
      assert.equal(kc.href, world.app.appUrl(adapter, '/'))
      await page.context().close()
    })

    for (const [flow, hasRefresh] of [['implicit', false], ['hybrid', true]]) {
      test(`the ${flow} flow logs in from the fragment`, async () => {
        const page = await newPage(world)
        const tokenCalls = []
        page.on('request', (r) => { if (r.url().endsWith('/openid-connect/token')) tokenCalls.push(r.url()) })
        const outcome = await loginRequired(world, page, adapter, { initOptions: { flow } })
        assert.deepEqual(outcome, { ok: true, value: true })
        const kc = await snapshot(page)
        assert.equal(kc.flow, flow)
        assert.equal(kc.tokenParsed.preferred_username, 'alice')
        assert.equal(typeof kc.idTokenParsed.at_hash, 'string')
        assert.equal(kc.refreshToken !== undefined, hasRefresh)
        assert.equal(tokenCalls.length, hasRefresh ? 1 : 0)
        if (flow === 'implicit') {
          assert.equal(kc.tokenParsed.exp - kc.tokenParsed.iat, 900, 'accessTokenLifespanForImplicitFlow')
        }
        await page.context().close()
      })
    }

    test('scopes: an optional scope is granted, an unknown one is an error', async () => {
      const page = await newPage(world)
      const outcome = await loginRequired(world, page, adapter, { initOptions: { scope: 'phone address' } })
      assert.deepEqual(outcome, { ok: true, value: true })
      const kc = await snapshot(page)
      assert.equal(kc.tokenParsed.scope, 'openid address email phone profile')

      const other = await newPage(world)
      await arm(world, other, adapter, { initOptions: { onLoad: 'login-required', scope: 'openid bogus' } })
      const failed = await settled(other)
      assert.equal(failed.ok, false)
      assert.equal(failed.error.error, 'invalid_scope')
      assert.equal(failed.error.error_description, 'Invalid scopes: openid bogus')
      assert.deepEqual(await eventNames(other), ['onAuthError'])
      await page.context().close()
      await other.context().close()
    })

    test('a login form left open too long ends in authentication_expired and a new login', async () => {
      const page = await newPage(world)
      await arm(world, page, adapter, { initOptions: { onLoad: 'login-required' } })
      await page.waitForSelector('#kc-login')
      const token = await (await fetch(`${world.server.url}/realms/master/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' })
      })).json()
      await fetch(`${world.server.url}/admin/devserver/realms/demo/expire-logins`, {
        method: 'POST', headers: { authorization: `Bearer ${token.access_token}` }
      })
      await submitLogin(page)
      // The adapter sees temporarily_unavailable/authentication_expired and starts a new login.
      await page.waitForURL((url) => url.href.startsWith(world.server.url))
      await submitLogin(page)
      await page.waitForURL((url) => url.href.startsWith(world.app.origin + '/app/'))
      assert.deepEqual(await settled(page), { ok: true, value: true })
      await page.context().close()
    })
  })
}
