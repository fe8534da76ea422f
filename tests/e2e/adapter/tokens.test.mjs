// updateToken and friends against devserver: one request for concurrent callers, which
// failures clear the tokens, bounded waits, and properties readable while a refresh is pending.
import { test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, snapshot, addFault, clearFaults, countRefreshes } from './setup.mjs'

const world = useWorld()
afterEach(() => clearFaults(world))

const update = (page, minValidity) => page.evaluate(async (m) => {
  try {
    return { ok: true, value: await window.kc.updateToken(m) }
  } catch (error) {
    return { ok: false, error: window.describeError(error) }
  }
}, minValidity)

const eventNames = (page) => page.evaluate(() => window.events.map((e) => e.name))

test('three concurrent updateToken calls share one token request and settle together', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const refreshes = await countRefreshes(page)
  const before = await snapshot(page)
  const results = await page.evaluate(async () => {
    window.events.length = 0
    return Promise.all([window.kc.updateToken(-1), window.kc.updateToken(-1), window.kc.updateToken(-1)])
  })
  assert.deepEqual(results, [true, true, true])
  assert.equal(refreshes.length, 1)
  assert.deepEqual(await eventNames(page), ['onAuthRefreshSuccess'])
  const after = await snapshot(page)
  assert.notEqual(after.token, before.token)
  assert.equal(after.subject, before.subject)
  await page.context().close()
})

test('a token that stays valid long enough is not refreshed (0 and no argument mean 5 s)', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const refreshes = await countRefreshes(page)
  for (const minValidity of [undefined, 0, 5, 60]) {
    assert.deepEqual(await update(page, minValidity), { ok: true, value: false }, String(minValidity))
  }
  assert.equal(refreshes.length, 0)
  // The demo realm's access tokens live 300 s: asking for more forces a refresh.
  assert.deepEqual(await update(page, 3600), { ok: true, value: true })
  assert.equal(refreshes.length, 1)
  await page.context().close()
})

test('a 400 from the token endpoint clears the tokens and rejects with the OAuth error', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  await page.evaluate(() => { window.events.length = 0 })
  await addFault(world, { target: 'token', grantType: 'refresh_token', status: 400, error: 'invalid_grant', errorDescription: 'Token is not active' })
  const result = await update(page, -1)
  assert.equal(result.ok, false)
  assert.equal(result.error.name, 'NetworkError')
  assert.equal(result.error.isError, true)
  assert.equal(result.error.status, 400)
  assert.equal(result.error.error, 'invalid_grant')
  assert.equal(result.error.error_description, 'Token is not active')
  const kc = await snapshot(page)
  assert.equal(kc.authenticated, false)
  assert.equal(kc.token, undefined)
  assert.equal(kc.refreshToken, undefined)
  assert.deepEqual(await eventNames(page), ['onAuthLogout', 'onAuthRefreshError'])
  await page.context().close()
})

test('a 500 from the token endpoint rejects and keeps the tokens', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const before = await snapshot(page)
  await page.evaluate(() => { window.events.length = 0 })
  await addFault(world, { target: 'token', grantType: 'refresh_token', status: 500 })
  const result = await update(page, -1)
  assert.equal(result.ok, false)
  assert.equal(result.error.name, 'NetworkError')
  assert.equal(result.error.status, 500)
  const kc = await snapshot(page)
  assert.equal(kc.authenticated, true)
  assert.equal(kc.token, before.token)
  assert.equal(kc.refreshToken, before.refreshToken)
  assert.deepEqual(await eventNames(page), ['onAuthRefreshError'])
  // The fault is used up: the next refresh works.
  assert.deepEqual(await update(page, -1), { ok: true, value: true })
  await page.context().close()
})

test('a network error rejects with a NetworkError and keeps the tokens', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const before = await snapshot(page)
  await page.route('**/protocol/openid-connect/token', (route) => route.abort('connectionrefused'))
  const result = await update(page, -1)
  assert.equal(result.ok, false)
  assert.equal(result.error.name, 'NetworkError')
  assert.equal(result.error.code, 'network_error')
  assert.equal(result.error.status, undefined)
  const kc = await snapshot(page)
  assert.equal(kc.authenticated, true)
  assert.equal(kc.token, before.token)
  await page.unroute('**/protocol/openid-connect/token')
  assert.deepEqual(await update(page, -1), { ok: true, value: true })
  await page.context().close()
})

test('a token endpoint that never answers ends in a timeout, and the adapter stays usable', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page, { initOptions: { messageReceiveTimeout: 1500 } }), { ok: true, value: true })
  const before = await snapshot(page)
  await addFault(world, { target: 'token', grantType: 'refresh_token', hang: true })
  const result = await update(page, -1)
  assert.equal(result.ok, false)
  assert.equal(result.error.code, 'timeout')
  assert.equal(result.error.name, 'NetworkError')
  assert.match(result.error.message, /Timeout/)
  assert.equal((await snapshot(page)).token, before.token)
  // The hanging rule answered once; the next refresh goes through.
  assert.deepEqual(await update(page, -1), { ok: true, value: true })
  assert.notEqual((await snapshot(page)).token, before.token)
  await page.context().close()
})

test('properties stay readable and consistent while a refresh is pending', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  await addFault(world, { target: 'token', grantType: 'refresh_token', delayMs: 1500 })
  const observed = await page.evaluate(async () => {
    const kc = window.kc
    const before = { token: kc.token, sub: kc.tokenParsed.sub, authenticated: kc.authenticated }
    const pending = kc.updateToken(-1)
    const during = { token: kc.token, sub: kc.tokenParsed.sub, authenticated: kc.authenticated, hasRole: kc.hasRealmRole('user') }
    const expired = kc.isTokenExpired()
    const refreshed = await pending
    return { before, during, expired, refreshed, after: kc.token }
  })
  assert.deepEqual(observed.during, { ...observed.before, hasRole: observed.during.hasRole })
  assert.equal(observed.expired, false)
  assert.equal(observed.refreshed, true)
  assert.notEqual(observed.after, observed.before.token)
  await page.context().close()
})

test('isTokenExpired and clearToken', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const result = await page.evaluate(() => {
    const kc = window.kc
    window.events.length = 0
    const fresh = kc.isTokenExpired()
    const withMargin = kc.isTokenExpired(3600)
    // minValidity is coerced as keycloak-js's arithmetic coerces it.
    const coerced = [kc.isTokenExpired('3600'), kc.isTokenExpired([3600]), kc.isTokenExpired(''), kc.isTokenExpired(null)]
    let invalid
    try { kc.isTokenExpired('soon') } catch (error) { invalid = window.describeError(error) }
    kc.clearToken()
    let after
    try { kc.isTokenExpired() } catch (error) { after = window.describeError(error) }
    return { fresh, withMargin, coerced, invalid, after, authenticated: kc.authenticated, token: kc.token, events: window.events.map((e) => e.name) }
  })
  assert.equal(result.fresh, false)
  assert.equal(result.withMargin, true)
  assert.deepEqual(result.coerced, [true, true, false, false])
  assert.equal(result.invalid.message, 'Invalid minValidity')
  assert.equal(result.invalid.code, 'invalid_option')
  assert.equal(result.after.message, 'Not authenticated')
  assert.equal(result.after.isError, true)
  assert.equal(result.authenticated, false)
  assert.equal(result.token, undefined)
  assert.deepEqual(result.events, ['onAuthLogout'])
  assert.deepEqual(await update(page, -1), {
    ok: false,
    error: { message: 'Unable to update token, no refresh token available.', name: 'KeycloakError', code: 'no_refresh_token', error: 'no_refresh_token', error_description: 'Unable to update token, no refresh token available.', status: undefined, isError: true }
  })
  await page.context().close()
})

test('init with token and refreshToken checks them with a refresh', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const { token, refreshToken, idToken } = await snapshot(page)
  const next = await newPage(world)
  const refreshes = await countRefreshes(next)
  const { armScenario, settled } = await import('./setup.mjs')
  await armScenario(next, world.app, 'keycloak-wasm', { config: world.config, initOptions: { token, refreshToken, idToken, checkLoginIframe: false } })
  assert.deepEqual(await settled(next), { ok: true, value: true })
  assert.equal(refreshes.length, 1)
  const kc = await snapshot(next)
  assert.equal(kc.authenticated, true)
  assert.notEqual(kc.token, token)
  assert.deepEqual(await eventNames(next), ['onAuthRefreshSuccess', 'onAuthSuccess', 'onReady'])
  await page.context().close()
  await next.context().close()
})

test('enableLogging writes keycloak-js style lines to the console, and only then', async () => {
  for (const enableLogging of [true, false]) {
    const page = await newPage(world)
    assert.deepEqual(await signedIn(world, page, { initOptions: { enableLogging } }), { ok: true, value: true })
    const lines = []
    page.on('console', (message) => { if (message.text().startsWith('[KEYCLOAK]')) lines.push(message.text()) })
    assert.deepEqual(await update(page, -1), { ok: true, value: true })
    assert.deepEqual(lines, enableLogging ? ['[KEYCLOAK] Refreshing token', '[KEYCLOAK] Token refreshed'] : [])
    await page.context().close()
  }
})

test('a callback that throws is reported and does not derail the refresh', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const reported = page.waitForEvent('pageerror')
  const result = await page.evaluate(async () => {
    window.kc.onAuthRefreshSuccess = () => { throw new Error('a bug in the app') }
    return window.kc.updateToken(-1)
  })
  assert.equal(result, true)
  assert.equal((await reported).message, 'a bug in the app')
  await page.context().close()
})
