// Hostile tokens through the wasm path: tokens of about a megabyte (from the token endpoint, and
// handed to init()) and tokens nested 100,000 levels deep. Each is taken or refused with a typed
// error; none may trap the WebAssembly instance ("unreachable", a stack overflow), and the
// adapter stays usable after.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, loginWith, snapshot, armScenario, initOutcome, submitLogin, backOnApp, ADAPTER } from './setup.mjs'

// devserver puts the first name into `given_name` and `name`: about 1 MB of claims per token.
const FIRST_NAME = 'x'.repeat(500_000)

const world = useWorld({
  realm: (realm) => {
    realm.users.push({
      username: 'big',
      enabled: true,
      firstName: FIRST_NAME,
      lastName: 'B',
      credentials: [{ type: 'password', value: 'big', temporary: false }],
      realmRoles: ['user']
    })
  }
})

/** An unsigned JWT with `payload` (text) as its payload; the adapter never checks signatures. */
function jwt (payload) {
  const part = (text) => Buffer.from(text).toString('base64url')
  return `${part('{"alg":"none","typ":"JWT"}')}.${part(payload)}.c2ln`
}

/** A payload with the usual claims around `extra`, a fragment of JSON text. */
function payload (extra) {
  const now = Math.floor(Date.now() / 1000)
  return `{"exp":${now + 300},"iat":${now},"sub":"s","sid":"x","typ":"Bearer","extra":${extra}}`
}

const DEPTH = 100_000
const INVALID_JSON = 'Unable to decode token, payload is not a valid JSON value.'
const HOSTILE = [
  ['nested 100,000 arrays deep', jwt(payload('['.repeat(DEPTH) + ']'.repeat(DEPTH))), INVALID_JSON],
  ['nested 100,000 objects deep', jwt(payload('{"a":'.repeat(DEPTH) + '0' + '}'.repeat(DEPTH))), INVALID_JSON],
  ['a megabyte of unclosed arrays', jwt(payload('['.repeat(1_000_000))), INVALID_JSON],
  ['a megabyte that is not base64url', `e30.${'!'.repeat(1_000_000)}.c2ln`, 'Unable to decode token, payload is not a valid Base64URL value.']
]

/**
 * init()'s outcome, or a failure naming the uncaught error of the page: a trap inside init()
 * surfaces there, and init() then never settles.
 */
function outcomeOrTrap (page) {
  const trapped = new Promise((resolve, reject) => {
    const fail = (message) => reject(new Error(`the page threw: ${message}`))
    if (page.errors?.length) fail(page.errors[0])
    page.on('pageerror', (error) => fail(error.message))
  })
  return Promise.race([initOutcome(page), trapped])
}

/**
 * Checks that the adapter of `page` still works after a refused init(): the instance builds a
 * login URL, and a second instance in the same document (the same WebAssembly instance)
 * initialises. A trapped instance would throw from both.
 */
async function assertUsable (page) {
  const result = await page.evaluate(async (config) => {
    try {
      const url = await window.kc.createLoginUrl()
      const other = new window.Keycloak(config)
      const initialised = await other.init({ checkLoginIframe: false })
      return { ok: true, url, initialised, authenticated: window.kc.authenticated }
    } catch (error) {
      return { ok: false, error: window.describeError(error) }
    }
  }, world.config)
  assert.equal(result.ok, true, JSON.stringify(result.error))
  assert.ok(result.url.startsWith(`${world.server.url}/realms/demo/protocol/openid-connect/auth?`), result.url)
  assert.equal(result.initialised, false)
  assert.equal(result.authenticated, false)
  assert.deepEqual(page.errors ?? [], [])
}

for (const [name, token, message] of HOSTILE) {
  test(`a token ${name} given to init() is refused with a typed error, and the adapter stays usable`, async () => {
    const page = await newPage(world)
    await armScenario(page, world.app, ADAPTER, {
      config: world.config,
      initOptions: { token, refreshToken: token, checkLoginIframe: false }
    })
    const outcome = await outcomeOrTrap(page)
    assert.equal(outcome.ok, false)
    assert.equal(outcome.error.isError, true)
    assert.equal(outcome.error.name, 'KeycloakError', JSON.stringify(outcome.error))
    assert.equal(outcome.error.code, 'invalid_token')
    assert.equal(outcome.error.message, message)
    const kc = await snapshot(page)
    assert.equal(kc.authenticated, false)
    assert.equal(kc.token, undefined)
    await assertUsable(page)
    await page.context().close()
  })
}

test('after a refused deep token the same instance logs in', async () => {
  const page = await newPage(world)
  const [, token] = HOSTILE[0]
  await armScenario(page, world.app, ADAPTER, {
    config: world.config,
    initOptions: { token, refreshToken: token, checkLoginIframe: false }
  })
  assert.equal((await outcomeOrTrap(page)).ok, false)
  await page.evaluate(() => { window.kc.login() })
  await submitLogin(page)
  // The page that comes back processes the callback before it looks at the initial tokens.
  assert.deepEqual(await backOnApp(world, page), { ok: true, value: true })
  assert.equal((await snapshot(page)).tokenParsed.preferred_username, 'alice')
  assert.deepEqual(page.errors ?? [], [])
  await page.context().close()
})

test('megabyte tokens from the token endpoint are taken, refreshed, and taken by init()', async () => {
  const page = await newPage(world)
  assert.deepEqual(await loginWith(world, page, { username: 'big' }), { ok: true, value: true })
  const first = await snapshot(page)
  assert.ok(first.token.length > 1_000_000, `a token of ${first.token.length} characters`)
  assert.equal(first.tokenParsed.given_name, FIRST_NAME)
  assert.equal(first.idTokenParsed.given_name, FIRST_NAME)

  const refreshed = await page.evaluate(async () => {
    try {
      return { ok: true, value: await window.kc.updateToken(-1) }
    } catch (error) {
      return { ok: false, error: window.describeError(error) }
    }
  })
  assert.deepEqual(refreshed, { ok: true, value: true })
  const second = await snapshot(page)
  assert.notEqual(second.token, first.token)
  assert.equal(second.tokenParsed.given_name, FIRST_NAME)

  // The same tokens handed to init() in another page: taken, and refreshed at once.
  const other = await newPage(world)
  await armScenario(other, world.app, ADAPTER, {
    config: world.config,
    initOptions: { token: second.token, refreshToken: second.refreshToken, idToken: second.idToken, checkLoginIframe: false }
  })
  assert.deepEqual(await initOutcome(other), { ok: true, value: true })
  const adopted = await snapshot(other)
  assert.equal(adopted.authenticated, true)
  assert.equal(adopted.tokenParsed.given_name, FIRST_NAME)
  assert.equal(adopted.subject, second.subject)
  assert.deepEqual(page.errors ?? [], [])
  assert.deepEqual(other.errors ?? [], [])
  await other.context().close()
  await page.context().close()
})
