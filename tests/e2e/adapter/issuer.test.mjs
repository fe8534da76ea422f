// RFC 9207: a server known to name itself in every authorization response (Keycloak always does;
// a generic provider says so with `authorization_response_iss_parameter_supported`) must do so,
// or a response injected from another server could pass for its own. A generic provider that
// does not announce it may leave `iss` out.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, snapshot, settled } from './setup.mjs'

const world = useWorld()

/** Takes `iss` out of the next redirect the authorization endpoint sends the browser. */
async function stripIssuer (page) {
  const stripped = []
  await page.route('**/protocol/openid-connect/auth?**', async (route) => {
    const response = await route.fetch({ maxRedirects: 0 })
    const location = response.headers().location ?? ''
    const [base, fragment = ''] = location.split('#')
    const params = new URLSearchParams(fragment)
    if (params.has('iss')) stripped.push(params.get('iss'))
    params.delete('iss')
    await route.fulfill({ response, headers: { ...response.headers(), location: `${base}#${params}` } })
  }, { times: 1 })
  return stripped
}

/** Signs in with `config`, then logs in again (the SSO session answers at once) without `iss`. */
async function loginAgainWithoutIssuer (config) {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page, { config }), { ok: true, value: true })
  const tokenRequests = []
  page.on('request', (r) => { if (r.url().endsWith('/protocol/openid-connect/token')) tokenRequests.push(r) })
  const stripped = await stripIssuer(page)
  const left = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame())
  await page.evaluate(() => { window.kc.login() })
  await left
  const outcome = await settled(page)
  assert.equal(stripped.length, 1, 'the server sent iss, and it was taken out')
  return { page, outcome, tokenRequests }
}

const metadata = async () => (await fetch(`${world.server.url}/realms/demo/.well-known/openid-configuration`)).json()

test('in Keycloak mode a callback without iss is rejected with invalid_issuer', async () => {
  const { page, outcome, tokenRequests } = await loginAgainWithoutIssuer(world.config)
  assert.equal(outcome.ok, false)
  assert.equal(outcome.error.code, 'invalid_issuer')
  assert.equal(tokenRequests.length, 0, 'the code is not exchanged')
  const events = await page.evaluate(() => window.events.map((e) => e.name))
  assert.deepEqual(events, ['onAuthError'])
  assert.equal((await snapshot(page)).authenticated, false)
  await page.context().close()
})

test('a generic provider that announces iss in its metadata must send it', async () => {
  const document = await metadata()
  assert.equal(document.authorization_response_iss_parameter_supported, true)
  const { page, outcome } = await loginAgainWithoutIssuer({ clientId: 'demo-app', oidcProvider: `${world.server.url}/realms/demo` })
  assert.equal(outcome.ok, false)
  assert.equal(outcome.error.code, 'invalid_issuer')
  await page.context().close()
})

test('a generic provider that does not announce iss may leave it out', async () => {
  const document = await metadata()
  delete document.authorization_response_iss_parameter_supported
  const { page, outcome } = await loginAgainWithoutIssuer({ clientId: 'demo-app', oidcProvider: document })
  assert.deepEqual(outcome, { ok: true, value: true })
  await page.context().close()
})
