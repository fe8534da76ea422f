// The URLs and navigations: createLoginUrl with every option in keycloak-js's order, register
// and account URLs, logout by GET and by POST, the user profile and userinfo documents, a
// custom adapter, and methods that work when destructured.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, snapshot, armScenario, settled, ADAPTER } from './setup.mjs'
import { skipIn } from '../harness.mjs'

const world = useWorld()

/** Resolves when the page has navigated to the app again (after a redirect by devserver). */
function backFromServer (page) {
  return page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame() && frame.url().startsWith(world.app.origin))
}

/**
 * check-sso's outcome on the page. Whether it asks devserver with a prompt=none round trip or
 * learns from the session iframe first depends on the engine: Firefox gives devserver's pages
 * their cookies inside the app after a login there (its storage-access heuristics).
 */
async function checkSso (page) {
  await armScenario(page, world.app, ADAPTER, { config: world.config, initOptions: { onLoad: 'check-sso' } })
  return settled(page)
}

async function ready (page, initOptions = {}) {
  await armScenario(page, world.app, ADAPTER, { config: world.config, initOptions })
  assert.deepEqual(await settled(page), { ok: true, value: false })
}

test('createLoginUrl sends every option, in keycloak-js order', async () => {
  const page = await newPage(world)
  await ready(page, { scope: 'email' })
  const url = new URL(await page.evaluate(() => window.kc.createLoginUrl({
    scope: 'profile openid',
    redirectUri: 'http://app.example/after?x=1',
    prompt: 'consent',
    action: 'UPDATE_PASSWORD',
    maxAge: 0,
    loginHint: 'alice@example.com',
    acr: { values: ['gold', 'silver'], essential: true },
    acrValues: 'gold',
    idpHint: 'github',
    locale: 'fr'
  })))
  assert.equal(url.origin + url.pathname, `${world.server.url}/realms/demo/protocol/openid-connect/auth`)
  const names = [...url.searchParams.keys()]
  assert.deepEqual(names, ['client_id', 'redirect_uri', 'state', 'response_mode', 'response_type', 'scope', 'nonce',
    'prompt', 'max_age', 'login_hint', 'kc_idp_hint', 'kc_action', 'ui_locales', 'claims', 'acr_values',
    'code_challenge', 'code_challenge_method'])
  const p = Object.fromEntries(url.searchParams)
  assert.equal(p.client_id, 'demo-app')
  assert.equal(p.redirect_uri, 'http://app.example/after?x=1')
  assert.match(p.state, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.match(p.nonce, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(p.response_mode, 'fragment')
  assert.equal(p.response_type, 'code')
  assert.equal(p.scope, 'profile openid')
  assert.equal(p.prompt, 'consent')
  assert.equal(p.max_age, '0')
  assert.equal(p.login_hint, 'alice@example.com')
  assert.equal(p.kc_idp_hint, 'github')
  assert.equal(p.kc_action, 'UPDATE_PASSWORD')
  assert.equal(p.ui_locales, 'fr')
  assert.deepEqual(JSON.parse(p.claims), { id_token: { acr: { values: ['gold', 'silver'], essential: true } } })
  assert.equal(p.acr_values, 'gold')
  assert.match(p.code_challenge, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(p.code_challenge_method, 'S256')

  // The login state is stored for the callback, under its state, with the PKCE verifier.
  const stored = await page.evaluate((state) => JSON.parse(localStorage.getItem(`kc-callback-${state}`)), p.state)
  assert.equal(stored.state, p.state)
  assert.equal(stored.nonce, p.nonce)
  assert.equal(stored.redirectUri, 'http://app.example/after?x=1')
  assert.equal(stored.prompt, 'consent')
  assert.equal(stored.pkceCodeVerifier.length, 96)
  assert.ok(stored.expires > Date.now() + 59 * 60 * 1000)

  const plain = new URL(await page.evaluate(() => window.kc.createLoginUrl()))
  assert.deepEqual([...plain.searchParams.keys()], ['client_id', 'redirect_uri', 'state', 'response_mode',
    'response_type', 'scope', 'nonce', 'code_challenge', 'code_challenge_method'])
  assert.equal(plain.searchParams.get('scope'), 'openid email')
  assert.equal(plain.searchParams.get('redirect_uri'), world.app.appUrl(ADAPTER, '/'))
  await page.context().close()
})

test('useNonce false and pkceMethod false leave nonce and PKCE out', async () => {
  const page = await newPage(world)
  await ready(page, { useNonce: false, pkceMethod: false, responseMode: 'query' })
  const url = new URL(await page.evaluate(() => window.kc.createLoginUrl()))
  assert.deepEqual([...url.searchParams.keys()], ['client_id', 'redirect_uri', 'state', 'response_mode', 'response_type', 'scope'])
  assert.equal(url.searchParams.get('response_mode'), 'query')
  await page.context().close()
})

test('register, account and logout URLs', async () => {
  const page = await newPage(world)
  await ready(page)
  const urls = await page.evaluate(async () => ({
    register: await window.kc.createRegisterUrl({ loginHint: 'new@example.com' }),
    account: window.kc.createAccountUrl(),
    accountTo: window.kc.createAccountUrl({ redirectUri: 'http://app.example/back' }),
    logout: window.kc.createLogoutUrl(),
    logoutTo: window.kc.createLogoutUrl({ redirectUri: 'http://app.example/bye' }),
    logoutPost: window.kc.createLogoutUrl({ logoutMethod: 'POST' })
  }))
  const realm = `${world.server.url}/realms/demo`
  const register = new URL(urls.register)
  assert.equal(register.origin + register.pathname, `${realm}/protocol/openid-connect/registrations`)
  assert.equal(register.searchParams.get('login_hint'), 'new@example.com')
  assert.equal(register.searchParams.get('kc_action'), null)
  const here = encodeURIComponent(world.app.appUrl(ADAPTER, '/'))
  assert.equal(urls.account, `${realm}/account?referrer=demo-app&referrer_uri=${here}`)
  assert.equal(urls.accountTo, `${realm}/account?referrer=demo-app&referrer_uri=http%3A%2F%2Fapp.example%2Fback`)
  assert.equal(urls.logout, `${realm}/protocol/openid-connect/logout?client_id=demo-app&post_logout_redirect_uri=${here}`)
  assert.equal(urls.logoutTo, `${realm}/protocol/openid-connect/logout?client_id=demo-app&post_logout_redirect_uri=http%3A%2F%2Fapp.example%2Fbye`)
  assert.equal(urls.logoutPost, `${realm}/protocol/openid-connect/logout`)
  await page.context().close()
})

test('logout by GET ends the SSO session and returns to the app', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const { idToken } = await snapshot(page)
  const logoutRequests = []
  page.on('request', (r) => { if (r.url().includes('/openid-connect/logout')) logoutRequests.push(r) })
  const back = backFromServer(page)
  await page.evaluate(() => { window.kc.logout() })
  await back
  const request = new URL(logoutRequests[0].url())
  assert.equal(logoutRequests[0].method(), 'GET')
  assert.equal(request.searchParams.get('id_token_hint'), idToken)
  assert.equal(request.searchParams.get('post_logout_redirect_uri'), world.app.appUrl(ADAPTER, '/'))
  // The session is gone: check-sso finds nobody.
  assert.deepEqual(await checkSso(page), { ok: true, value: false })
  await page.context().close()
})

test('logout by POST submits a form without absent fields', skipIn('firefox', 'WebDriver BiDi reports no request bodies, so the posted form cannot be read'), async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page, { initOptions: { logoutMethod: 'POST' } }), { ok: true, value: true })
  const { idToken } = await snapshot(page)
  const posted = page.waitForRequest((r) => r.url().endsWith('/openid-connect/logout') && r.method() === 'POST')
  const back = backFromServer(page)
  await page.evaluate(() => { window.kc.logout() })
  const request = await posted
  assert.deepEqual([...new URLSearchParams(request.postData())], [
    ['id_token_hint', idToken], ['client_id', 'demo-app'], ['post_logout_redirect_uri', world.app.appUrl(ADAPTER, '/')]])
  await back
  assert.deepEqual(await checkSso(page), { ok: true, value: false })

  // Without an ID token the field is left out (keycloak-js would send "undefined").
  await ready(page, { logoutMethod: 'POST' })
  const bare = page.waitForRequest((r) => r.url().endsWith('/openid-connect/logout') && r.method() === 'POST')
  await page.evaluate(() => { window.kc.logout({ redirectUri: location.origin + '/app/keycloak-wasm/bye' }) })
  assert.deepEqual([...new URLSearchParams((await bare).postData())], [
    ['client_id', 'demo-app'], ['post_logout_redirect_uri', world.app.appUrl(ADAPTER, '/bye')]])
  await page.context().close()
})

test('loadUserProfile and loadUserInfo fetch and keep the documents', async () => {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const result = await page.evaluate(async () => {
    const kc = window.kc
    const profile = await kc.loadUserProfile()
    const userInfo = await kc.loadUserInfo()
    return { profile, userInfo, same: kc.profile === profile && kc.userInfo === userInfo, sub: kc.subject }
  })
  assert.equal(result.profile.username, 'alice')
  assert.equal(result.profile.id, result.sub)
  assert.equal(result.userInfo.sub, result.sub)
  assert.equal(result.userInfo.preferred_username, 'alice')
  assert.equal(result.same, true)

  const failed = await page.evaluate(async () => {
    window.kc.clearToken()
    try { await window.kc.loadUserInfo() } catch (error) { return window.describeError(error) }
  })
  assert.equal(failed.message, 'Unable to build authorization header, token is not set, make sure the user is authenticated.')
  assert.equal(failed.isError, true)
  await page.context().close()
})

test('methods work destructured, and login() navigates', async () => {
  const page = await newPage(world)
  await ready(page)
  const detached = await page.evaluate(async () => {
    const { createLoginUrl, hasRealmRole, hasResourceRole, createLogoutUrl } = window.kc
    return { url: await createLoginUrl(), role: hasRealmRole('user'), resource: hasResourceRole('x'), logout: createLogoutUrl() }
  })
  assert.match(detached.url, /\/protocol\/openid-connect\/auth\?client_id=demo-app&/)
  assert.equal(detached.role, false)
  assert.equal(detached.resource, false)
  assert.match(detached.logout, /\/logout\?client_id=demo-app/)
  const navigation = page.waitForRequest((r) => r.url().includes('/protocol/openid-connect/auth') && r.isNavigationRequest())
  await page.evaluate(() => { const { login } = window.kc; login({ prompt: 'login' }) })
  assert.equal(new URL((await navigation).url()).searchParams.get('prompt'), 'login')
  await page.context().close()
})

test('a custom adapter receives login, logout, register and accountManagement', async () => {
  const page = await newPage(world)
  await page.goto(world.app.appUrl(ADAPTER, '/blank'))
  await page.waitForFunction(() => window.harnessReady === true)
  const calls = await page.evaluate(async (config) => {
    const calls = []
    const adapter = {
      login: async (options) => { calls.push(['login', options]) },
      logout: async (options) => { calls.push(['logout', options]) },
      register: async (options) => { calls.push(['register', options]) },
      accountManagement: async () => { calls.push(['accountManagement']) },
      redirectUri: (options) => { calls.push(['redirectUri']); return 'app://callback' }
    }
    const kc = new window.Keycloak(config)
    await kc.init({ adapter })
    await kc.login({ prompt: 'login' })
    await kc.logout({ redirectUri: 'x' })
    await kc.register()
    await kc.accountManagement()
    const url = new URL(await kc.createLoginUrl({ redirectUri: 'ignored' }))
    calls.push(['url', url.searchParams.get('redirect_uri')])
    delete adapter.register
    try { await kc.register() } catch (error) { calls.push(['missing', error.name, error.code, error.message]) }
    return calls
  }, world.config)
  assert.deepEqual(calls, [['login', { prompt: 'login' }], ['logout', { redirectUri: 'x' }], ['register', undefined],
    ['accountManagement'], ['redirectUri'], ['url', 'app://callback'],
    ['missing', 'KeycloakError', 'invalid_option', "The custom adapter has no 'register' function."]])
  await page.context().close()
})

test('errors before init() and for invalid options are KeycloakErrors with keycloak-js messages', async () => {
  const page = await newPage(world)
  await page.goto(world.app.appUrl(ADAPTER, '/blank'))
  await page.waitForFunction(() => window.harnessReady === true)
  const result = await page.evaluate(async (config) => {
    const grab = async (f) => { try { await f() } catch (e) { return window.describeError(e) } }
    const kc = new window.Keycloak(config)
    const before = {
      hasRealmRole: kc.hasRealmRole('x'),
      isTokenExpired: await grab(() => kc.isTokenExpired()),
      updateToken: await grab(() => kc.updateToken()),
      createLoginUrl: await grab(() => kc.createLoginUrl())
    }
    const invalid = {}
    for (const [name, options] of Object.entries({ onLoad: { onLoad: 'nope' }, responseMode: { responseMode: 'nope' }, flow: { flow: 'nope' } })) {
      invalid[name] = await grab(() => new window.Keycloak(config).init(options))
    }
    return { before, invalid }
  }, world.config)
  assert.equal(result.before.hasRealmRole, false)
  assert.equal(result.before.isTokenExpired.message, 'Not authenticated')
  assert.equal(result.before.updateToken.message, 'Unable to update token, no refresh token available.')
  assert.equal(result.before.createLoginUrl.code, 'not_initialized')
  for (const name of ['onLoad', 'responseMode', 'flow']) {
    assert.equal(result.invalid[name].message, `Invalid value for ${name}`)
    assert.equal(result.invalid[name].name, 'KeycloakError')
  }
  await page.context().close()
})
