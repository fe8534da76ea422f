// The authorization callback: a forged or replayed state is ignored, a nonce or issuer that
// does not match is rejected, OAuth errors and required-action results reach the callbacks,
// and an expired login form starts a new login.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, snapshot, armScenario, settled, submitLogin, backOnApp, admin, ADAPTER } from './setup.mjs'

const world = useWorld()

const AUTH = '**/protocol/openid-connect/auth?**'

/**
 * Answers the next authorization request itself with a redirect to its redirect_uri carrying
 * `params` (and the request's real state and the server's issuer, as Keycloak always names
 * itself, unless `params` sets them): a server answer the test controls.
 */
async function answerAuthorization (page, params) {
  await page.route(AUTH, (route) => {
    const request = new URL(route.request().url())
    const iss = `${world.server.url}/realms/demo`
    const answer = new URLSearchParams({ state: request.searchParams.get('state'), iss, ...params })
    route.fulfill({ status: 302, headers: { location: `${request.searchParams.get('redirect_uri')}#${answer}` } })
  }, { times: 1 })
}

/** Arms init() without onLoad, then starts login() from the page; resolves once it left. */
async function startLogin (page, initOptions = {}) {
  await armScenario(page, world.app, ADAPTER, { config: world.config, initOptions })
  assert.deepEqual(await settled(page), { ok: true, value: false })
  const left = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame())
  await page.evaluate(() => { window.kc.login() })
  await left
}

test('a callback with a forged state is ignored and removed from the address bar', async () => {
  const page = await newPage(world)
  const tokenRequests = []
  page.on('request', (r) => { if (r.url().endsWith('/token')) tokenRequests.push(r) })
  await armScenario(page, world.app, ADAPTER, { config: world.config, path: '/cb#state=forged-state&code=forged-code' })
  assert.deepEqual(await settled(page), { ok: true, value: false })
  assert.equal((await snapshot(page)).href, world.app.appUrl(ADAPTER, '/cb'))
  assert.equal(tokenRequests.length, 0)
  await page.context().close()
})

test('a callback replayed after its login is ignored (a state is single-use)', async () => {
  const page = await newPage(world)
  let callbackUrl
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && frame.url().includes('code=')) callbackUrl = frame.url()
  })
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  assert.ok(callbackUrl, 'the callback URL was seen')
  const tokenRequests = []
  page.on('request', (r) => { if (r.url().endsWith('/token')) tokenRequests.push(r) })
  // A fresh document (a fragment change alone would not reload the page).
  await page.goto(world.app.appUrl(ADAPTER, '/blank'))
  await page.goto(callbackUrl)
  assert.deepEqual(await settled(page), { ok: true, value: false })
  assert.equal(tokenRequests.length, 0)
  assert.equal((await snapshot(page)).authenticated, false)
  await page.context().close()
})

test('an ID token whose nonce differs from the stored one is rejected and its tokens dropped', async () => {
  const page = await newPage(world)
  // The server is sent a different nonce than the one the adapter stored.
  await page.route(AUTH, (route) => {
    const url = new URL(route.request().url())
    url.searchParams.set('nonce', 'not-the-stored-nonce')
    route.continue({ url: url.href })
  }, { times: 1 })
  await startLogin(page)
  await submitLogin(page)
  const outcome = await backOnApp(world, page)
  assert.equal(outcome.ok, false)
  assert.equal(outcome.error.message, 'Invalid nonce.')
  assert.equal(outcome.error.code, 'invalid_nonce')
  assert.equal(outcome.error.isError, true)
  const kc = await snapshot(page)
  assert.equal(kc.authenticated, false)
  assert.equal(kc.token, undefined)
  assert.deepEqual(await page.evaluate(() => window.events.map((e) => e.name)), ['onAuthLogout', 'onAuthError'])
  await page.context().close()
})

test('a callback from another issuer (RFC 9207 iss) is rejected', async () => {
  const page = await newPage(world)
  await answerAuthorization(page, { code: 'some-code', iss: 'https://evil.example/realms/demo' })
  await startLogin(page)
  const outcome = await backOnApp(world, page)
  assert.equal(outcome.ok, false)
  assert.equal(outcome.error.code, 'invalid_issuer')
  const events = await page.evaluate(() => window.events)
  assert.equal(events[0].name, 'onAuthError')
  await page.context().close()
})

test("a configured url that differs from the server's own name only in case and a trailing slash still logs in", async () => {
  const page = await newPage(world)
  const issuers = []
  page.on('framenavigated', (frame) => {
    const iss = new URL(frame.url()).hash.match(/[#&]iss=([^&]*)/)
    if (frame === page.mainFrame() && iss) issuers.push(decodeURIComponent(iss[1]))
  })
  const url = world.server.url.replace(/^http:/, 'HTTP:') + '/'
  assert.deepEqual(await signedIn(world, page, { config: { ...world.config, url } }), { ok: true, value: true })
  assert.deepEqual(issuers, [`${world.server.url}/realms/demo`], 'the server named itself in lower case')
  await page.context().close()
})

test('an OAuth error in the callback reaches onAuthError and rejects with its fields', async () => {
  const page = await newPage(world)
  await answerAuthorization(page, { error: 'access_denied', error_description: 'The user said no' })
  await startLogin(page)
  const outcome = await backOnApp(world, page)
  assert.equal(outcome.ok, false)
  assert.equal(outcome.error.name, 'KeycloakError')
  assert.equal(outcome.error.error, 'access_denied')
  assert.equal(outcome.error.error_description, 'The user said no')
  assert.equal(outcome.error.isError, true)
  const [event] = await page.evaluate(() => window.events)
  assert.equal(event.name, 'onAuthError')
  assert.equal(event.args[0].error, 'access_denied')
  assert.equal(event.args[0].error_description, 'The user said no')
  assert.equal((await snapshot(page)).href, world.app.appUrl(ADAPTER, '/'))
  await page.context().close()
})

test('kc_action_status reaches onActionUpdate', async () => {
  const page = await newPage(world)
  await answerAuthorization(page, { error: 'access_denied', kc_action_status: 'cancelled', kc_action: 'UPDATE_PASSWORD' })
  await startLogin(page)
  await backOnApp(world, page)
  const events = await page.evaluate(() => window.events)
  assert.deepEqual(events[0], { name: 'onActionUpdate', args: ['cancelled', 'UPDATE_PASSWORD'] })
  await page.context().close()
})

test('authentication_expired starts a new login with the same options', async () => {
  const page = await newPage(world)
  const authRequests = []
  page.on('request', (r) => { if (r.url().includes('/protocol/openid-connect/auth')) authRequests.push(new URL(r.url())) })
  await armScenario(page, world.app, ADAPTER, { config: world.config })
  assert.deepEqual(await settled(page), { ok: true, value: false })
  await page.evaluate(() => { window.kc.login({ loginHint: 'alice', scope: 'email' }) })
  await page.waitForSelector('#username')
  await admin(world, 'POST', '/admin/devserver/realms/demo/expire-logins')
  // The adapter answers the expired login with a second authorization request, same options.
  const secondForm = page.waitForEvent('framenavigated',
    (frame) => frame === page.mainFrame() && frame.url().includes('/protocol/openid-connect/auth'))
  await submitLogin(page)
  await secondForm
  assert.equal(authRequests.length, 2)
  for (const request of authRequests) {
    assert.equal(request.searchParams.get('login_hint'), 'alice')
    assert.equal(request.searchParams.get('scope'), 'openid email')
  }
  assert.notEqual(authRequests[0].searchParams.get('state'), authRequests[1].searchParams.get('state'))
  await submitLogin(page)
  assert.deepEqual(await backOnApp(world, page), { ok: true, value: true })
  await page.context().close()
})
