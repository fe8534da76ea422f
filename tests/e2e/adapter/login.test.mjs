// Logging in with keycloak-wasm against devserver: onLoad login-required and check-sso, the
// standard, implicit and hybrid flows, both response modes, and the app's URL kept intact.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, loginWith, snapshot, armAndRoundTrip, ADAPTER } from './setup.mjs'

const world = useWorld()

test('login-required sends the user to the login page and comes back authenticated', async () => {
  const page = await newPage(world)
  const outcome = await loginWith(world, page)
  assert.deepEqual(outcome, { ok: true, value: true })
  const kc = await snapshot(page)
  assert.equal(kc.authenticated, true)
  assert.equal(kc.tokenParsed.preferred_username, 'alice')
  assert.equal(kc.subject, kc.tokenParsed.sub)
  assert.equal(kc.sessionId, kc.tokenParsed.sid)
  assert.equal(kc.idTokenParsed.sub, kc.subject)
  assert.equal(typeof kc.refreshToken, 'string')
  assert.equal(typeof kc.timeSkew, 'number')
  assert.equal(kc.loginRequired, true)
  assert.equal(kc.clientId, 'demo-app')
  assert.equal(kc.realm, 'demo')
  assert.equal(kc.href, world.app.appUrl(ADAPTER, '/'), 'the callback is gone from the address bar')
  const events = await page.evaluate(() => window.events.map((e) => e.name))
  assert.deepEqual(events, ['onAuthSuccess', 'onReady'])
  assert.deepEqual(page.errors ?? [], [])
  await page.context().close()
})

test('check-sso without a session comes back unauthenticated through a prompt=none redirect', async () => {
  const page = await newPage(world)
  const authRequests = []
  page.on('request', (r) => { if (r.url().includes('/protocol/openid-connect/auth')) authRequests.push(new URL(r.url())) })
  const outcome = await armAndRoundTrip(world, page, { initOptions: { onLoad: 'check-sso' } })
  assert.deepEqual(outcome, { ok: true, value: false })
  assert.equal(authRequests.length, 1)
  assert.equal(authRequests[0].searchParams.get('prompt'), 'none')
  const kc = await snapshot(page)
  assert.equal(kc.authenticated, false)
  assert.equal(kc.token, undefined)
  assert.equal(kc.href, world.app.appUrl(ADAPTER, '/'))
  assert.deepEqual(await page.evaluate(() => window.events), [{ name: 'onReady', args: [false] }])
  await page.context().close()
})

test('check-sso with an SSO session logs in without a form', async () => {
  const page = await newPage(world)
  assert.deepEqual(await loginWith(world, page), { ok: true, value: true })
  const first = await snapshot(page)
  assert.deepEqual(await armAndRoundTrip(world, page, { initOptions: { onLoad: 'check-sso' } }), { ok: true, value: true })
  const second = await snapshot(page)
  assert.equal(second.subject, first.subject)
  assert.notEqual(second.token, first.token)
  assert.equal(second.sessionId, first.sessionId)
  await page.context().close()
})

for (const [flow, responseType] of [['implicit', 'id_token token'], ['hybrid', 'code id_token token']]) {
  test(`the ${flow} flow logs in with tokens from the callback`, async () => {
    const page = await newPage(world)
    const tokenRequests = []
    page.on('request', (r) => { if (r.url().endsWith('/protocol/openid-connect/token')) tokenRequests.push(r) })
    const outcome = await loginWith(world, page, { initOptions: { onLoad: 'login-required', flow } })
    assert.deepEqual(outcome, { ok: true, value: true })
    const kc = await snapshot(page)
    assert.equal(kc.flow, flow)
    assert.equal(kc.responseType, responseType)
    assert.equal(kc.tokenParsed.preferred_username, 'alice')
    assert.equal(typeof kc.idTokenParsed.nonce, 'string')
    assert.equal(tokenRequests.length, flow === 'hybrid' ? 1 : 0, 'only the hybrid flow exchanges a code')
    assert.equal(kc.refreshToken === undefined, flow === 'implicit')
    assert.equal(kc.href, world.app.appUrl(ADAPTER, '/'))
    const events = await page.evaluate(() => window.events.map((e) => e.name))
    assert.deepEqual(events, ['onAuthSuccess', 'onReady'])
    await page.context().close()
  })
}

test('responseMode query: the response comes in the query and leaves the app query alone', async () => {
  const page = await newPage(world)
  const outcome = await loginWith(world, page, { initOptions: { onLoad: 'login-required', responseMode: 'query' }, path: '/page?tab=2&sort=name' })
  assert.deepEqual(outcome, { ok: true, value: true })
  const kc = await snapshot(page)
  assert.equal(kc.responseMode, 'query')
  assert.equal(kc.href, world.app.appUrl(ADAPTER, '/page?tab=2&sort=name'))
  await page.context().close()
})

for (const fragment of ['#/route?tab=2', '#/orders/17', '#section-2', '#/a?x=1&&y=2', '#?tab=2', '#&a=1&']) {
  test(`the app's fragment ${fragment} is kept out of redirect_uri and restored byte for byte`, async () => {
    const page = await newPage(world)
    const authRequests = []
    page.on('request', (r) => { if (r.url().includes('/protocol/openid-connect/auth')) authRequests.push(new URL(r.url())) })
    const outcome = await loginWith(world, page, { path: '/spa' + fragment })
    assert.deepEqual(outcome, { ok: true, value: true })
    assert.equal(authRequests[0].searchParams.get('redirect_uri'), world.app.appUrl(ADAPTER, '/spa'))
    assert.equal((await snapshot(page)).href, world.app.appUrl(ADAPTER, '/spa' + fragment))
    await page.context().close()
  })
}

test('a redirectUri option with a fragment goes out without it and comes back with it', async () => {
  const page = await newPage(world)
  const target = world.app.appUrl(ADAPTER, '/after#/welcome?first=1')
  const outcome = await loginWith(world, page, { initOptions: { onLoad: 'login-required', redirectUri: target } })
  assert.deepEqual(outcome, { ok: true, value: true })
  assert.equal((await snapshot(page)).href, target)
  await page.context().close()
})

test('the login locale and init scope reach the authorization request', async () => {
  const page = await newPage(world)
  const authRequests = []
  page.on('request', (r) => { if (r.url().includes('/protocol/openid-connect/auth')) authRequests.push(new URL(r.url())) })
  const outcome = await loginWith(world, page, { initOptions: { onLoad: 'login-required', locale: 'de', scope: 'email profile' } })
  assert.deepEqual(outcome, { ok: true, value: true })
  assert.equal(authRequests[0].searchParams.get('ui_locales'), 'de')
  assert.equal(authRequests[0].searchParams.get('scope'), 'openid email profile')
  assert.equal(await page.evaluate(() => window.kc.scope), 'email profile')
  await page.context().close()
})
