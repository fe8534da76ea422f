// The channel between the tabs of an origin is open to every page of that origin, so what a tab
// hears there is checked: shared tokens are taken only when they belong to this tab's user,
// client, issuer and session and are still valid, and a logout message only makes a tab check
// whether its session really ended.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, signedIn, ADAPTER } from './setup.mjs'

const world = useWorld()

/** The name of the channel keycloak-wasm's tabs of the demo client talk on. */
const channelName = () => `keycloak-wasm ${world.server.url}/realms/demo/protocol/openid-connect/token demo-app`

const decode = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
/** `jwt` with its claims changed by `edit` (header and signature kept). */
function forge (jwt, edit) {
  const [header, , signature] = jwt.split('.')
  const claims = decode(jwt)
  edit(claims)
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
}

/** A logged-in tab, and a page of the same origin that runs no adapter (the stranger). */
async function tabAndStranger () {
  const context = await world.browser.newContext()
  const tab = await context.newPage()
  assert.deepEqual(await signedIn(world, tab), { ok: true, value: true })
  const stranger = await context.newPage()
  await stranger.goto(world.app.appUrl(ADAPTER, '/blank'))
  return { context, tab, stranger }
}

/** Posts `messages` (strings) on the tabs' channel from `page`, in order. */
const post = (page, name, messages) => page.evaluate(([name, messages]) => {
  const channel = new BroadcastChannel(name)
  for (const message of messages) channel.postMessage(message)
  channel.close()
}, [name, messages])

const eventNames = (page) => page.evaluate(() => window.events.map((e) => e.name))

test('tokens posted by another page of the origin are taken only if they fit this tab', async () => {
  const { context, tab, stranger } = await tabAndStranger()
  const own = await tab.evaluate(() => ({ token: window.kc.token, refreshToken: window.kc.refreshToken, idToken: window.kc.idToken }))
  const claims = decode(own.token)
  let serial = 0
  // Each one newer than the tab's own refresh token and of its session (same sid).
  const share = (editAccess, editId = () => {}) => {
    serial += 1
    const refreshToken = forge(own.refreshToken, (c) => { c.iat += 1; c.jti = `forged-${serial}` })
    return JSON.stringify({ token: forge(own.token, editAccess), refreshToken, idToken: forge(own.idToken, editId) })
  }
  const forged = [
    share((c) => { c.sub = 'someone-else' }),
    share((c) => { c.iss = 'http://evil.example/realms/demo' }),
    share((c) => { c.azp = 'other-app' }),
    share((c) => { c.exp = c.iat - 1 }),
    share(() => {}, (c) => { c.sub = 'someone-else' })
  ]
  const fitting = share(() => {})
  await post(stranger, channelName(), [...forged, fitting])
  // Messages arrive in order: once the fitting one is taken, the others have been heard.
  const expected = JSON.parse(fitting).refreshToken
  await tab.waitForFunction((token) => window.kc.refreshToken === token, expected, { timeout: 10000 })
  const refreshes = (await eventNames(tab)).filter((n) => n === 'onAuthRefreshSuccess')
  assert.equal(refreshes.length, 1, 'only the fitting tokens were taken')
  assert.equal(await tab.evaluate(() => window.kc.tokenParsed.sub), claims.sub)
  await context.close()
})

test('a logout posted by another page of the origin does not end a live session', async () => {
  const { context, tab, stranger } = await tabAndStranger()
  const sid = await tab.evaluate(() => window.kc.sessionId)
  const before = await tab.evaluate(() => window.kc.refreshToken)
  await post(stranger, channelName(), [JSON.stringify({ logout: sid })])
  // The tab asks the server whether its session still lives (a refresh), and it does.
  await tab.waitForFunction((token) => window.kc.refreshToken !== token, before, { timeout: 10000 })
  const names = await eventNames(tab)
  assert.ok(names.includes('onAuthRefreshSuccess'), names.join())
  assert.ok(!names.includes('onAuthLogout'), names.join())
  assert.equal(await tab.evaluate(() => window.kc.authenticated), true)
  await context.close()
})
