// The constructor's other forms (a keycloak.json URL, a generic OpenID provider by issuer or by
// metadata), and PKCE on a plain-HTTP intranet origin, where keycloak-js cannot log in.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useWorld, newPage, signedIn, armScenario, settled, addFault, clearFaults, ADAPTER } from './setup.mjs'

const staticDir = mkdtempSync(join(tmpdir(), 'kc-config-'))
// A host name that is not "potentially trustworthy": pages there are no secure context, so
// crypto.subtle and crypto.randomUUID are missing, as on a plain-HTTP intranet server.
const INTRANET = 'intranet.test'
const intranetOrigin = (world) => world.app.origin.replace('localhost', INTRANET)

const world = useWorld({
  staticDir,
  browserArgs: [`--host-resolver-rules=MAP ${INTRANET} 127.0.0.1`],
  realm: (realm, app) => {
    const intranet = app.origin.replace('localhost', INTRANET)
    for (const client of realm.clients) {
      if (client.clientId === 'demo-app') {
        client.redirectUris.push(`${intranet}/*`)
        client.webOrigins.push(intranet)
      }
    }
  }
})

test('a keycloak.json URL is fetched in init() and configures the adapter', async () => {
  writeFileSync(join(staticDir, 'keycloak.json'), JSON.stringify({
    realm: 'demo', 'auth-server-url': world.server.url + '/', resource: 'demo-app', 'public-client': true
  }))
  const page = await newPage(world)
  const outcome = await signedIn(world, page, { config: `${world.app.origin}/static/keycloak.json` })
  assert.deepEqual(outcome, { ok: true, value: true })
  const kc = await page.evaluate(() => ({ realm: window.kc.realm, clientId: window.kc.clientId, authServerUrl: window.kc.authServerUrl, user: window.kc.tokenParsed.preferred_username }))
  assert.deepEqual(kc, { realm: 'demo', clientId: 'demo-app', authServerUrl: world.server.url + '/', user: 'alice' })
  await page.context().close()
})

test('a keycloak.json that cannot be fetched rejects init() with a NetworkError', async () => {
  const page = await newPage(world)
  await armScenario(page, world.app, ADAPTER, { config: `${world.app.origin}/static/missing.json` })
  const outcome = await settled(page)
  assert.equal(outcome.ok, false)
  assert.equal(outcome.error.name, 'NetworkError')
  assert.equal(outcome.error.status, 404)
  await page.context().close()
})

test('a generic OpenID provider by issuer URL: discovery, then login', async () => {
  const page = await newPage(world)
  const config = { clientId: 'demo-app', oidcProvider: `${world.server.url}/realms/demo` }
  assert.deepEqual(await signedIn(world, page, { config }), { ok: true, value: true })
  const result = await page.evaluate(async () => {
    const grab = async (f) => { try { await f() } catch (e) { return e.message } }
    return {
      user: window.kc.tokenParsed.preferred_username,
      userInfo: (await window.kc.loadUserInfo()).preferred_username,
      profile: await grab(() => window.kc.loadUserProfile()),
      account: await grab(() => window.kc.createAccountUrl()),
      register: await grab(() => window.kc.createRegisterUrl()),
      realm: window.kc.realm
    }
  })
  assert.deepEqual(result, {
    user: 'alice',
    userInfo: 'alice',
    profile: 'Unable to load user profile, make sure the adapter is not configured using a generic OIDC provider.',
    account: 'Unable to create account URL, make sure the adapter is not configured using a generic OIDC provider.',
    register: 'Redirection to "Register user" page not supported in standard OIDC mode',
    realm: undefined
  })
  await page.context().close()
})

test('a discovery document that never comes ends init() with a timeout', async () => {
  await addFault(world, { target: 'well-known', hang: true })
  try {
    const page = await newPage(world)
    const config = { clientId: 'demo-app', oidcProvider: `${world.server.url}/realms/demo` }
    await armScenario(page, world.app, ADAPTER, { config, initOptions: { messageReceiveTimeout: 1000 } })
    const outcome = await settled(page)
    assert.equal(outcome.ok, false)
    assert.equal(outcome.error.code, 'timeout')
    assert.equal(outcome.error.name, 'NetworkError')
    await page.context().close()
  } finally {
    await clearFaults(world)
  }
})

test('a generic OpenID provider by metadata object', async () => {
  const metadata = await (await fetch(`${world.server.url}/realms/demo/.well-known/openid-configuration`)).json()
  const page = await newPage(world)
  const config = { clientId: 'demo-app', oidcProvider: { authorization_endpoint: metadata.authorization_endpoint, token_endpoint: metadata.token_endpoint, issuer: metadata.issuer } }
  assert.deepEqual(await signedIn(world, page, { config }), { ok: true, value: true })
  const missing = await page.evaluate(async () => {
    try { await window.kc.loadUserInfo() } catch (e) { return e.message }
  })
  assert.equal(missing, 'Not supported by the OIDC server')
  await page.context().close()
})

test('PKCE works on a plain-HTTP intranet origin, where keycloak-js cannot even build the login URL', async () => {
  const page = await newPage(world)
  const app = { ...world.app, appUrl: (adapter, path = '/') => `${intranetOrigin(world)}/app/${adapter}${path}` }
  const authRequests = []
  page.on('request', (r) => { if (r.url().includes('/protocol/openid-connect/auth')) authRequests.push(new URL(r.url())) })
  await armScenario(page, app, ADAPTER, { config: world.config })
  assert.deepEqual(await settled(page), { ok: true, value: false })
  assert.deepEqual(await page.evaluate(() => ({ secure: window.isSecureContext, subtle: typeof crypto.subtle })), { secure: false, subtle: 'undefined' })
  const keycloakJs = await page.evaluate(async (config) => {
    const { default: KeycloakJs } = await import('/adapters/keycloak-js/keycloak.js')
    const kc = new KeycloakJs(config)
    try {
      await kc.init({ checkLoginIframe: false })
      return await kc.createLoginUrl()
    } catch (error) { return `failed: ${error.message}` }
  }, world.config)
  assert.match(keycloakJs, /^failed: /)
  await page.evaluate(() => { window.kc.login() })
  const { submitLogin } = await import('./setup.mjs')
  await submitLogin(page)
  await page.waitForURL((url) => url.href.startsWith(intranetOrigin(world)))
  assert.deepEqual(await settled(page), { ok: true, value: true })
  assert.equal(authRequests[0].searchParams.get('code_challenge_method'), 'S256')
  assert.equal(await page.evaluate(() => window.kc.tokenParsed.preferred_username), 'alice')
  await page.context().close()
})
